import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { getCompoundEntityRef, parseEntityRef } from '@backstage/catalog-model';
import { humanizeEntityRef, useEntity } from '@backstage/plugin-catalog-react';
import { usePermission } from '@backstage/plugin-permission-react';
import Button from '@material-ui/core/Button';
import Checkbox from '@material-ui/core/Checkbox';
import Chip from '@material-ui/core/Chip';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import Link from '@material-ui/core/Link';
import {
  environmentResourceRef,
  PromotionGroup,
  promotionsMergePermission,
  promotionsPromotePermission,
  SystemPromotions,
} from '@gitops-promotions/plugin-promotions-common';
import { ReactNode, useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { promotionsApiRef } from '../api';
import { DataAgeRange, LastKnownStateMarker } from './LastKnownState';
import { absoluteTime, relativeTime } from './time';

const useStyles = makeStyles(theme => ({
  version: { fontFamily: 'monospace' },
  age: { marginTop: theme.spacing(1) },
  group: {
    padding: theme.spacing(1, 0),
    borderBottom: `1px solid ${theme.palette.divider}`,
  },
  actions: {
    display: 'flex',
    gap: theme.spacing(1),
    marginTop: theme.spacing(1),
  },
  list: { margin: 0, paddingLeft: theme.spacing(2) },
}));

const HIDDEN_COMPONENT = 'You may not read this component’s promotions';

/** One permission to ask of one environment of one component. */
type Check = {
  permission: typeof promotionsPromotePermission;
  resourceRef: string;
};

const check = (
  permission: Check['permission'],
  entityRef: string,
  environment: string,
): Check => ({
  permission,
  resourceRef: environmentResourceRef(entityRef, environment),
});

/** Shows `children` when the permission passes, else `otherwise`; nothing while asked. */
function IfPermitted(props: {
  check: Check;
  otherwise: ReactNode;
  children: ReactNode;
}) {
  const { allowed, loading } = usePermission(props.check);
  if (loading) return null;
  return <>{allowed ? props.children : props.otherwise}</>;
}

/** Shows `children` when any of the checks passes, asking one after another. */
function AnyPermitted(props: { checks: Check[]; children: ReactNode }) {
  const [first, ...rest] = props.checks;
  if (!first) return null;
  return (
    <IfPermitted
      check={first}
      otherwise={<AnyPermitted checks={rest}>{props.children}</AnyPermitted>}
    >
      {props.children}
    </IfPermitted>
  );
}

/** Shows `children` when, for each list of checks, one of its checks passes. */
function AllPermitted(props: { each: Check[][]; children: ReactNode }) {
  const [first, ...rest] = props.each;
  if (!first) return <>{props.children}</>;
  return (
    <AnyPermitted checks={first}>
      <AllPermitted each={rest}>{props.children}</AllPermitted>
    </AnyPermitted>
  );
}

const membersYouMayNotRead = (count: number) =>
  `${count} ${count === 1 ? 'member' : 'members'} you may not read`;

/** A component as people name it: `billing`, or `ops/billing` in another namespace. */
const componentName = (entityRef: string) =>
  humanizeEntityRef(parseEntityRef(entityRef), { defaultKind: 'component' });

const messageOf = (error: unknown) =>
  error instanceof Error ? error.message : String(error);

/** The environments of the system's components, in their pipelines' order. */
function environmentsOf(data: SystemPromotions): string[] {
  const names: string[] = [];
  for (const component of data.components) {
    for (const env of component.environments) {
      if (!names.includes(env.name)) names.push(env.name);
    }
  }
  return names;
}

function PromoteTogetherDialog(props: {
  data: SystemPromotions;
  onClose: () => void;
  onRequested: () => void;
}) {
  const { data, onClose, onRequested } = props;
  const api = useApi(promotionsApiRef);
  const system = useEntity().entity;
  const environments = environmentsOf(data);
  const [to, setTo] = useState(environments[1] ?? environments[0] ?? '');
  const [chosen, setChosen] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const candidates = data.components.filter(
    c => !c.hidden && c.environments.some(e => e.name === to),
  );

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.requestPromotionGroup(getCompoundEntityRef(system), {
        to,
        members: chosen
          .filter(ref => candidates.some(c => c.entityRef === ref))
          .map(entityRef => ({ entityRef })),
      });
      onRequested();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open onClose={onClose} aria-labelledby="promote-together-title">
      <DialogTitle id="promote-together-title">Promote together</DialogTitle>
      <DialogContent>
        <TextField
          select
          id="promote-together-environment"
          label="Environment"
          value={to}
          onChange={e => setTo(String(e.target.value))}
          fullWidth
        >
          {environments.map(name => (
            <MenuItem key={name} value={name}>
              {name}
            </MenuItem>
          ))}
        </TextField>
        {candidates.map(c => (
          <FormControlLabel
            key={c.entityRef}
            label={c.title ?? componentName(c.entityRef)}
            control={
              <Checkbox
                checked={chosen.includes(c.entityRef)}
                onChange={(_, checked) =>
                  setChosen(now =>
                    checked
                      ? [...now, c.entityRef]
                      : now.filter(r => r !== c.entityRef),
                  )
                }
              />
            }
          />
        ))}
        <Typography variant="body2" color="textSecondary">
          One promotion per component, each with its own gates, merged together
          once every one passes.
        </Typography>
        {error && <Alert severity="error">{error}</Alert>}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        <Button
          color="primary"
          variant="contained"
          disabled={busy || !to || !chosen.length}
          onClick={submit}
        >
          Request
        </Button>
      </DialogActions>
    </Dialog>
  );
}

function GroupRow(props: { group: PromotionGroup; onChanged: () => void }) {
  const { group, onChanged } = props;
  const classes = useStyles();
  const api = useApi(promotionsApiRef);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      onChanged();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  const active = group.state === 'open' || group.state === 'blocked';
  const may = (permission: Check['permission']) =>
    group.members.map(m => check(permission, m.entityRef, group.environment));
  // The backend refuses to act on a group with a member the caller may not read.
  const actable = active && group.hiddenMembers === 0;
  return (
    <li className={classes.group} aria-label={`Group to ${group.environment}`}>
      <Typography variant="subtitle2">
        To {group.environment}{' '}
        <Chip
          size="small"
          label={group.state === 'merging' ? 'being merged' : group.state}
        />{' '}
        requested by {group.requestedBy}
      </Typography>
      <ul className={classes.list} aria-label="Members">
        {group.members.map(m => (
          <li key={m.id}>
            <Typography variant="body2" component="span">
              {`${componentName(m.entityRef)} ${m.version} (${m.state})`}
            </Typography>{' '}
            {m.pullRequest && (
              <Link href={m.pullRequest.url} target="_blank" rel="noopener">
                pull request #{m.pullRequest.number}
              </Link>
            )}
          </li>
        ))}
        {group.hiddenMembers > 0 && (
          <li>
            <Typography variant="body2" color="textSecondary" component="span">
              {membersYouMayNotRead(group.hiddenMembers)}
            </Typography>
          </li>
        )}
      </ul>
      {group.reason && (
        <Typography variant="body2" color="error">
          {group.reason}
        </Typography>
      )}
      {active &&
        group.blocking.map((b, index) => (
          <Typography key={index} variant="body2" color="textSecondary">
            Waiting for{' '}
            {b.entityRef
              ? componentName(b.entityRef)
              : 'a member you may not read'}
            {b.entityRef ? `: ${b.reason}` : ''}
          </Typography>
        ))}
      {actable && (
        <div className={classes.actions}>
          <AllPermitted each={may(promotionsMergePermission).map(c => [c])}>
            <Button
              size="small"
              variant="outlined"
              color="primary"
              disabled={busy || group.blocking.length > 0}
              onClick={() => act(() => api.mergePromotionGroup(group.id))}
            >
              Merge all
            </Button>
          </AllPermitted>
          {/* Whoever asked may take a member back; otherwise closing is for those who may merge. */}
          <AllPermitted
            each={group.members
              .filter(m => m.state === 'open')
              .map(m => [
                check(promotionsPromotePermission, m.entityRef, m.environment),
                check(promotionsMergePermission, m.entityRef, m.environment),
              ])}
          >
            <Button
              size="small"
              disabled={busy}
              onClick={() => act(() => api.closePromotionGroup(group.id))}
            >
              Close
            </Button>
          </AllPermitted>
        </div>
      )}
      {group.history.length > 0 && (
        <ul className={classes.list} aria-label="History">
          {group.history.map((event, index) => (
            <li key={index}>
              <Typography
                variant="body2"
                color="textSecondary"
                component="span"
              >
                <span title={absoluteTime(event.at)}>
                  {relativeTime(event.at)}
                </span>{' '}
                {event.action} by {event.actor}
                {event.reason ? `: ${event.reason}` : ''}
              </Typography>
            </li>
          ))}
        </ul>
      )}
      {error && <Alert severity="error">{error}</Alert>}
    </li>
  );
}

/**
 * A system's Promotions tab: its components × environments, its grouped promotions, and a
 * dialog to promote several components to one environment together.
 */
export function SystemPromotionsContent() {
  const classes = useStyles();
  const { entity } = useEntity();
  const api = useApi(promotionsApiRef);
  const [dialog, setDialog] = useState(false);
  const state = useAsyncRetry(
    () => api.systemPromotions(getCompoundEntityRef(entity)),
    [api, entity],
  );
  if (state.loading && !state.value) return <Progress />;
  if (state.error) return <ResponseErrorPanel error={state.error} />;
  const data = state.value!;
  const environments = environmentsOf(data);
  return (
    <>
      <InfoCard
        title="Components"
        action={
          <AnyPermitted
            checks={data.components
              .filter(c => !c.hidden)
              .flatMap(c =>
                c.environments.map(e =>
                  check(promotionsPromotePermission, c.entityRef, e.name),
                ),
              )}
          >
            <Button
              color="primary"
              variant="contained"
              onClick={() => setDialog(true)}
            >
              Promote together
            </Button>
          </AnyPermitted>
        }
      >
        {data.components.length ? (
          <Table size="small" aria-label="Versions per environment">
            <TableHead>
              <TableRow>
                <TableCell>Component</TableCell>
                {environments.map(name => (
                  <TableCell key={name}>{name}</TableCell>
                ))}
              </TableRow>
            </TableHead>
            <TableBody>
              {data.components.map(c => (
                <TableRow key={c.entityRef}>
                  <TableCell>
                    <span
                      title={
                        c.asOf
                          ? `Read ${relativeTime(c.asOf)}, ${absoluteTime(
                              c.asOf,
                            )}`
                          : undefined
                      }
                    >
                      {c.title ?? componentName(c.entityRef)}
                    </span>
                    <LastKnownStateMarker
                      asOf={c.asOf}
                      refreshError={c.refreshError}
                    />
                  </TableCell>
                  {c.hidden ? (
                    <TableCell colSpan={environments.length}>
                      <Typography variant="body2" color="textSecondary">
                        {HIDDEN_COMPONENT}
                      </Typography>
                    </TableCell>
                  ) : (
                    environments.map(name => (
                      <TableCell key={name} className={classes.version}>
                        {c.environments.find(e => e.name === name)?.version ??
                          '—'}
                      </TableCell>
                    ))
                  )}
                </TableRow>
              ))}
            </TableBody>
          </Table>
        ) : (
          <Typography>This system has no components you may see.</Typography>
        )}
        {data.components.some(c => c.asOf) && (
          <Typography
            variant="caption"
            color="textSecondary"
            component="p"
            className={classes.age}
            aria-label="Data age"
          >
            <DataAgeRange times={data.components.map(c => c.asOf)} />
          </Typography>
        )}
      </InfoCard>
      <InfoCard title="Promoted together">
        {data.groups.length ? (
          <ul style={{ margin: 0, padding: 0, listStyle: 'none' }}>
            {data.groups.map(g => (
              <GroupRow key={g.id} group={g} onChanged={state.retry} />
            ))}
          </ul>
        ) : (
          <Typography>No grouped promotions yet.</Typography>
        )}
      </InfoCard>
      {dialog && (
        <PromoteTogetherDialog
          data={data}
          onClose={() => setDialog(false)}
          onRequested={() => {
            setDialog(false);
            state.retry();
          }}
        />
      )}
    </>
  );
}
