import { useState } from 'react';
import {
  Content,
  EmptyState,
  Header,
  Link,
  Page,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi, useRouteRef } from '@backstage/core-plugin-api';
import {
  entityRouteParams,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import TextField from '@material-ui/core/TextField';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import CheckCircleIcon from '@material-ui/icons/CheckCircle';
import HighlightOffIcon from '@material-ui/icons/HighlightOff';
import ScheduleIcon from '@material-ui/icons/Schedule';
import {
  GateEvaluation,
  InboxItem,
} from '@gitops-promotions/plugin-promotions-common';
import useAsync from 'react-use/esm/useAsync';
import useDebounce from 'react-use/esm/useDebounce';
import { InboxQuery, promotionsApiRef } from '../api';
import { absoluteTime, relativeTime } from './time';
import { GATE_NAMES } from './workflow/GateList';

const PAGE = 25;

const useStyles = makeStyles(theme => ({
  filters: {
    display: 'flex',
    gap: theme.spacing(2),
    marginBottom: theme.spacing(2),
  },
  filter: { minWidth: 220 },
  chip: { margin: theme.spacing(0.25) },
  passed: { color: theme.palette.success.main },
  pending: { color: theme.palette.warning.main },
  failed: { color: theme.palette.error.main },
  age: { marginTop: theme.spacing(1) },
  paging: {
    display: 'flex',
    justifyContent: 'flex-end',
    gap: theme.spacing(1),
    marginTop: theme.spacing(2),
  },
}));

const GATE_ICONS = {
  passed: CheckCircleIcon,
  pending: ScheduleIcon,
  failed: HighlightOffIcon,
};

/** One chip per gate, coloured by its state, its summary on hover. */
function GateChips(props: { gates: GateEvaluation[] }) {
  const classes = useStyles();
  return (
    <>
      {props.gates.map(gate => {
        const Icon = GATE_ICONS[gate.state];
        const name = GATE_NAMES[gate.gate] ?? gate.gate;
        return (
          <Tooltip key={gate.gate} title={gate.summary}>
            <Chip
              size="small"
              variant="outlined"
              className={classes.chip}
              icon={<Icon fontSize="small" className={classes[gate.state]} />}
              label={name}
              aria-label={`${name}: ${gate.state}`}
            />
          </Tooltip>
        );
      })}
    </>
  );
}

/** The catalog's entity page route; undefined in an app without the catalog. */
function useEntityRoute() {
  try {
    return useRouteRef(entityRouteRef);
  } catch {
    return undefined;
  }
}

/**
 * The approver inbox: every open promotion waiting for the signed-in person to approve or merge,
 * across every service they may act on, oldest first, a page at a time from the backend.
 */
export function InboxPage() {
  const api = useApi(promotionsApiRef);
  const entityRoute = useEntityRoute();
  const classes = useStyles();
  const [typed, setTyped] = useState({ environment: '', owner: '' });
  const [filters, setFilters] = useState(typed);
  // The cursors of the pages before this one, so that "previous" goes back without a query.
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  useDebounce(
    () => {
      if (
        typed.environment !== filters.environment ||
        typed.owner !== filters.owner
      ) {
        setFilters(typed);
        setCursors([]);
      }
    },
    300,
    [typed],
  );
  const query: InboxQuery = {
    ...(filters.environment.trim()
      ? { environment: filters.environment.trim() }
      : {}),
    ...(filters.owner.trim() ? { owner: filters.owner.trim() } : {}),
    ...(cursor ? { cursor } : {}),
    limit: PAGE,
  };
  const state = useAsync(async () => {
    const result = await api.inbox(query);
    // The inbox shows stored promotions, not a repository's state: its age is when it was read.
    return { ...result, readAt: new Date().toISOString() };
  }, [JSON.stringify(query)]);
  const page = state.value;
  const linkOf = (item: InboxItem) =>
    entityRoute &&
    `${entityRoute(entityRouteParams(item.promotion.entityRef))}/promotions`;

  let body: JSX.Element;
  if (state.loading) body = <Progress />;
  else if (state.error) body = <ResponseErrorPanel error={state.error} />;
  else if (!page || (page.items.length === 0 && cursors.length === 0)) {
    body = (
      <EmptyState
        missing="data"
        title="Nothing waits for you"
        description="No open promotion you may approve or merge is waiting for your decision."
      />
    );
  } else {
    body = (
      <Table size="small" aria-label="Promotions waiting for you">
        <TableHead>
          <TableRow>
            <TableCell>Service</TableCell>
            <TableCell>Environment</TableCell>
            <TableCell>Version</TableCell>
            <TableCell>Asked by</TableCell>
            <TableCell>Asked</TableCell>
            <TableCell>Owners</TableCell>
            <TableCell>You may</TableCell>
            <TableCell>Gates</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {page.items.map(item => (
            <TableRow key={item.promotion.id}>
              <TableCell>
                {entityRoute ? (
                  <Link to={linkOf(item)!}>{item.promotion.entityRef}</Link>
                ) : (
                  item.promotion.entityRef
                )}
              </TableCell>
              <TableCell>{item.promotion.environment}</TableCell>
              <TableCell>
                {item.promotion.kind === 'rollback' ? 'Roll back to ' : ''}
                {item.promotion.version}
              </TableCell>
              <TableCell>{item.promotion.requestedBy}</TableCell>
              <TableCell>
                <Tooltip title={absoluteTime(item.promotion.requestedAt)}>
                  <span>{relativeTime(item.promotion.requestedAt)}</span>
                </Tooltip>
              </TableCell>
              <TableCell>{item.owners.join(', ')}</TableCell>
              <TableCell>{item.actions.join(', ')}</TableCell>
              <TableCell>
                <GateChips gates={item.promotion.gates} />
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    );
  }

  return (
    <Page themeId="tool">
      <Header
        title="Promotions waiting for you"
        subtitle="Open promotions you may approve or merge and have not decided on"
      />
      <Content>
        <div className={classes.filters}>
          <TextField
            className={classes.filter}
            id="promotions-inbox-environment"
            label="Environment"
            placeholder="production"
            value={typed.environment}
            onChange={e =>
              setTyped({ ...typed, environment: e.target.value.toLowerCase() })
            }
          />
          <TextField
            className={classes.filter}
            id="promotions-inbox-owner"
            label="Owner"
            placeholder="group:default/shop-team"
            value={typed.owner}
            onChange={e => setTyped({ ...typed, owner: e.target.value })}
          />
        </div>
        {body}
        {page && !state.loading && !state.error && (
          <Typography
            variant="caption"
            color="textSecondary"
            component="p"
            className={classes.age}
            aria-label="Data age"
          >
            As of{' '}
            <time dateTime={page.readAt} title={absoluteTime(page.readAt)}>
              {new Date(page.readAt).toLocaleTimeString()}
            </time>
            , when the page was read: each promotion and its gates as last
            stored
          </Typography>
        )}
        <div className={classes.paging}>
          <Button
            disabled={cursors.length === 0 || state.loading}
            onClick={() => setCursors(cursors.slice(0, -1))}
          >
            Previous
          </Button>
          <Button
            disabled={!page?.nextCursor || state.loading}
            onClick={() =>
              page?.nextCursor && setCursors([...cursors, page.nextCursor])
            }
          >
            Next
          </Button>
        </div>
      </Content>
    </Page>
  );
}
