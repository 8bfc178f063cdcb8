import { memo, useCallback, useState } from 'react';
import { parseEntityRef } from '@backstage/catalog-model';
import {
  Content,
  Header,
  InfoCard,
  Link,
  Page,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi, useRouteRef } from '@backstage/core-plugin-api';
import {
  entityRouteParams,
  entityRouteRef,
  humanizeEntityRef,
} from '@backstage/plugin-catalog-react';
import FormControl from '@material-ui/core/FormControl';
import InputLabel from '@material-ui/core/InputLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Select from '@material-ui/core/Select';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TablePagination from '@material-ui/core/TablePagination';
import TableRow from '@material-ui/core/TableRow';
import TableSortLabel from '@material-ui/core/TableSortLabel';
import Typography from '@material-ui/core/Typography';
import MuiLink from '@material-ui/core/Link';
import { makeStyles } from '@material-ui/core/styles';
import {
  DEFAULT_DELIVERY_FIGURE_WINDOW,
  DeliveryFigureWindow,
  DRIFT_KINDS,
  DriftKind,
  FleetCell,
  FleetColumn,
  FleetQuery,
  FleetRow,
  FleetSort,
  FLEET_FIGURES_OWNER_LIMIT,
  OwnerDeliveryFigures,
} from '@gitops-promotions/plugin-promotions-common';
import useAsync from 'react-use/esm/useAsync';
import { promotionsApiRef } from '../api';
import {
  DeliveryFiguresView,
  DeliveryWindowSelector,
  formatDuration,
} from './DeliveryCard';
import { DataAgeRange, LastKnownStateMarker } from './LastKnownState';
import { DRIFT_LABELS, driftColor } from './DriftBadge';
import { DriftChip } from './DriftChip';

/** The drift a cell is coloured by when it has several: what needs someone first. */
const SEVERITY: DriftKind[] = [
  'out-of-sync',
  'live-mismatch',
  'behind',
  'config',
  'differs',
  'ahead',
  'waiting-for-sync',
  'stale-promotion',
];

const useStyles = makeStyles(theme => ({
  filters: {
    display: 'flex',
    flexWrap: 'wrap',
    gap: theme.spacing(2),
    marginBottom: theme.spacing(2),
  },
  filter: { minWidth: 160 },
  count: { display: 'block', fontWeight: 400, fontSize: '0.75rem' },
  // Many environments make the matrix wider than the page: it scrolls, its headings stay whole.
  matrix: { overflowX: 'auto' },
  heading: {
    verticalAlign: 'bottom',
    minWidth: 112,
    '& .MuiTableSortLabel-root': { whiteSpace: 'nowrap' },
  },
  service: { whiteSpace: 'nowrap' },
  cell: (props: { kind?: DriftKind }) => ({
    borderLeft: props.kind
      ? `4px solid ${driftColor(theme, props.kind)}`
      : `4px solid transparent`,
    verticalAlign: 'top',
  }),
  version: { fontFamily: 'monospace', overflowWrap: 'anywhere' },
  note: { marginTop: theme.spacing(1) },
  figures: { marginBottom: theme.spacing(2) },
  age: { marginBottom: theme.spacing(1) },
}));

/** Owners whose figures one page of the owners table shows. */
const OWNER_PAGE = Math.min(10, FLEET_FIGURES_OWNER_LIMIT);

/** An owner's entity ref as people read it: `team-a` for `group:default/team-a`. */
export function ownerLabel(owner: string): string {
  try {
    return humanizeEntityRef(parseEntityRef(owner), { defaultKind: 'group' });
  } catch {
    return owner;
  }
}

const perWeek = (figures: OwnerDeliveryFigures) =>
  figures.productionDeployments.count > 0
    ? `${figures.productionDeployments.perWeek} to production`
    : `${figures.deployments.perWeek}`;
const median = (ms: number | null) => (ms === null ? '–' : formatDuration(ms));

/** What the figures cover, when the fleet holds more services than one answer reads. */
function TruncatedNote(props: { truncated: boolean }) {
  const classes = useStyles({});
  return props.truncated ? (
    <Typography variant="caption" display="block" className={classes.note}>
      The owners have more services than one answer reads: the figures cover the
      first ones only.
    </Typography>
  ) : null;
}

/** One owner's delivery figures, pooled over the services of theirs the caller may read. */
const OwnerFiguresPanel = memo(function OwnerPanel(props: {
  owner: string;
  days: DeliveryFigureWindow;
  onDays: (days: DeliveryFigureWindow) => void;
}) {
  const { owner, days } = props;
  const api = useApi(promotionsApiRef);
  const state = useAsync(
    async () => api.ownerFigures([owner], days),
    [api, owner, days],
  );
  const figures = state.value?.owners[0];
  return (
    <InfoCard
      title={`Delivery of ${ownerLabel(owner)}`}
      subheader={`Last ${days} days, over the services you may read`}
      action={<DeliveryWindowSelector days={days} onChange={props.onDays} />}
    >
      {state.error && <ResponseErrorPanel error={state.error} />}
      {!state.error && (state.loading || !figures) && <Progress />}
      {!state.error && !state.loading && figures && (
        <>
          <DeliveryFiguresView figures={figures} days={days} />
          <TruncatedNote truncated={state.value!.truncated} />
        </>
      )}
    </InfoCard>
  );
});

/** Every owner's four figures, a page of owners at a time; choosing one filters the fleet. */
const OwnerFiguresTable = memo(function OwnersTable(props: {
  owners: string[];
  days: DeliveryFigureWindow;
  onDays: (days: DeliveryFigureWindow) => void;
  onOwner: (owner: string) => void;
}) {
  const { owners, days } = props;
  const api = useApi(promotionsApiRef);
  const [page, setPage] = useState(0);
  const last = Math.max(0, Math.ceil(owners.length / OWNER_PAGE) - 1);
  const shown = owners.slice(
    Math.min(page, last) * OWNER_PAGE,
    (Math.min(page, last) + 1) * OWNER_PAGE,
  );
  const state = useAsync(
    async () => (shown.length ? api.ownerFigures(shown, days) : undefined),
    [api, JSON.stringify(shown), days],
  );
  const byOwner = new Map(
    (state.value?.owners ?? []).map(figures => [figures.owner, figures]),
  );
  return (
    <InfoCard
      title="Delivery by owner"
      subheader={`Last ${days} days, over the services you may read`}
      action={<DeliveryWindowSelector days={days} onChange={props.onDays} />}
    >
      {state.error && <ResponseErrorPanel error={state.error} />}
      {!state.error && state.loading && <Progress />}
      {!state.error && !state.loading && (
        <>
          <Table size="small" aria-label="Delivery by owner">
            <TableHead>
              <TableRow>
                <TableCell>Owner</TableCell>
                <TableCell align="right">Services</TableCell>
                <TableCell align="right">Deployments per week</TableCell>
                <TableCell align="right">Lead time to production</TableCell>
                <TableCell align="right">Change failure rate</TableCell>
                <TableCell align="right">Time to restore</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {shown.map(owner => {
                const figures = byOwner.get(owner);
                return (
                  <TableRow key={owner}>
                    <TableCell>
                      <MuiLink
                        component="button"
                        variant="body2"
                        onClick={() => props.onOwner(owner)}
                      >
                        {ownerLabel(owner)}
                      </MuiLink>
                    </TableCell>
                    <TableCell align="right">
                      {figures?.services ?? '–'}
                    </TableCell>
                    <TableCell align="right">
                      {figures ? perWeek(figures) : '–'}
                    </TableCell>
                    <TableCell align="right">
                      {median(figures?.leadTime.medianMs ?? null)}
                    </TableCell>
                    <TableCell align="right">
                      {figures?.changeFailure.rate === null ||
                      figures?.changeFailure.rate === undefined
                        ? '–'
                        : `${Math.round(figures.changeFailure.rate * 100)}%`}
                    </TableCell>
                    <TableCell align="right">
                      {median(figures?.restore.medianMs ?? null)}
                    </TableCell>
                  </TableRow>
                );
              })}
              {shown.length === 0 && (
                <TableRow>
                  <TableCell colSpan={6}>No owners.</TableCell>
                </TableRow>
              )}
            </TableBody>
          </Table>
          {owners.length > OWNER_PAGE && (
            <TablePagination
              component="div"
              count={owners.length}
              page={Math.min(page, last)}
              rowsPerPage={OWNER_PAGE}
              rowsPerPageOptions={[OWNER_PAGE]}
              onPageChange={(_, next) => setPage(next)}
            />
          )}
          <TruncatedNote truncated={Boolean(state.value?.truncated)} />
        </>
      )}
    </InfoCard>
  );
});

/** What a column's counts say: "prod: 12 behind, 3 out of sync". */
export function columnCounts(column: FleetColumn): string {
  const parts = DRIFT_KINDS.filter(kind => column.drift[kind]).map(
    kind => `${column.drift[kind]} ${DRIFT_LABELS[kind]}`,
  );
  return `${column.environment}: ${
    parts.length ? parts.join(', ') : 'no drift'
  }`;
}

/** The kind a cell is coloured by. */
export function cellDrift(cell: FleetCell): DriftKind | undefined {
  return SEVERITY.find(kind => cell.drift.includes(kind));
}

function Cell(props: { environment: string; cell?: FleetCell }) {
  const { cell, environment } = props;
  const kind = cell && cellDrift(cell);
  const classes = useStyles({ kind });
  return (
    <TableCell
      className={classes.cell}
      data-drift={kind ?? 'none'}
      aria-label={
        cell
          ? `${environment}: ${cell.version ?? 'unknown'}${
              cell.drift.length
                ? `, ${cell.drift.map(k => DRIFT_LABELS[k] ?? k).join(', ')}`
                : ''
            }${cell.health ? `, ${cell.health}` : ''}`
          : `${environment}: not deployed`
      }
    >
      {cell && (
        <>
          <Typography variant="body2" className={classes.version}>
            {cell.version ?? 'unknown'}
          </Typography>
          {cell.drift.map(k => (
            <DriftChip key={k} kind={k} />
          ))}
          {cell.health && cell.health !== 'Healthy' && (
            <Typography variant="caption" display="block">
              {cell.health}
            </Typography>
          )}
        </>
      )}
    </TableCell>
  );
}

/** How old the rows shown are, and how many are the last known state of a failed refresh. */
function FleetAge(props: { rows: FleetRow[] }) {
  const classes = useStyles({});
  const failed = props.rows.filter(row => row.refreshError).length;
  if (!props.rows.length) return null;
  return (
    <Typography
      variant="body2"
      color="textSecondary"
      className={classes.age}
      aria-label="Data age"
    >
      <DataAgeRange times={props.rows.map(row => row.asOf)} />
      {failed > 0 &&
        ` · ${failed} ${
          failed === 1 ? 'service shows its' : 'services show their'
        } last known state: the last refresh failed`}
    </Typography>
  );
}

function Filter(props: {
  label: string;
  value: string;
  options: Array<{ value: string; label: string }>;
  onChange: (value: string) => void;
}) {
  const classes = useStyles({});
  const id = `fleet-filter-${props.label.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <FormControl className={classes.filter}>
      <InputLabel id={id}>{props.label}</InputLabel>
      <Select
        labelId={id}
        value={props.value}
        onChange={event => props.onChange(String(event.target.value))}
      >
        <MenuItem value="">Any</MenuItem>
        {props.options.map(option => (
          <MenuItem key={option.value} value={option.value}>
            {option.label}
          </MenuItem>
        ))}
      </Select>
    </FormControl>
  );
}

const sameSort = (a: FleetSort, b: FleetSort) =>
  a.by === b.by &&
  ('environment' in a ? a.environment : '') ===
    ('environment' in b ? b.environment : '');

/**
 * Every annotated service's environments as one matrix of versions, coloured by drift, paged,
 * filtered, sorted and counted by the backend.
 */
export function FleetPage() {
  const api = useApi(promotionsApiRef);
  const entityRoute = useRouteRef(entityRouteRef);
  const classes = useStyles({});
  const [filters, setFilters] = useState({
    owner: '',
    system: '',
    lifecycle: '',
    drift: '',
    driftEnvironment: '',
  });
  const [sort, setSort] = useState<FleetSort>({ by: 'name' });
  const [order, setOrder] = useState<'asc' | 'desc'>('asc');
  const [page, setPage] = useState(0);
  const [limit, setLimit] = useState(50);
  const [days, setDays] = useState<DeliveryFigureWindow>(
    DEFAULT_DELIVERY_FIGURE_WINDOW,
  );
  const query: FleetQuery = {
    ...(filters.owner ? { owner: filters.owner } : {}),
    ...(filters.system ? { system: filters.system } : {}),
    ...(filters.lifecycle ? { lifecycle: filters.lifecycle } : {}),
    ...(filters.drift ? { drift: filters.drift as DriftKind } : {}),
    ...(filters.drift && filters.driftEnvironment
      ? { driftEnvironment: filters.driftEnvironment }
      : {}),
    sort,
    order,
    offset: page * limit,
    limit,
  };
  const state = useAsync(() => api.fleet(query), [JSON.stringify(query)]);
  const fleet = state.value;

  const setFilter = (name: keyof typeof filters) => (value: string) => {
    setFilters(current => ({ ...current, [name]: value }));
    setPage(0);
  };
  const chooseOwner = useCallback((owner: string) => {
    setFilters(current => ({ ...current, owner }));
    setPage(0);
  }, []);
  const sortBy = (next: FleetSort) => {
    if (sameSort(sort, next)) setOrder(order === 'asc' ? 'desc' : 'asc');
    else {
      setSort(next);
      setOrder(next.by === 'drift' ? 'desc' : 'asc');
    }
    setPage(0);
  };
  const sortLabel = (next: FleetSort, label: string) => (
    <TableSortLabel
      active={sameSort(sort, next)}
      direction={sameSort(sort, next) ? order : 'asc'}
      onClick={() => sortBy(next)}
    >
      {label}
    </TableSortLabel>
  );
  const linkOf = (row: FleetRow) => {
    return `${entityRoute(entityRouteParams(row.entityRef))}/promotions`;
  };
  const environments = fleet?.columns ?? [];
  const option = (value: string) => ({ value, label: value });
  const owners = fleet?.facets.owners ?? [];

  return (
    <Page themeId="tool">
      <Header
        title="Fleet"
        subtitle="Every service's version in each environment, coloured by drift"
      />
      <Content>
        <div className={classes.filters}>
          <Filter
            label="Owner"
            value={filters.owner}
            options={owners.map(owner => ({
              value: owner,
              label: ownerLabel(owner),
            }))}
            onChange={setFilter('owner')}
          />
          <Filter
            label="System"
            value={filters.system}
            options={(fleet?.facets.systems ?? []).map(option)}
            onChange={setFilter('system')}
          />
          <Filter
            label="Lifecycle"
            value={filters.lifecycle}
            options={(fleet?.facets.lifecycles ?? []).map(option)}
            onChange={setFilter('lifecycle')}
          />
          <Filter
            label="Drift"
            value={filters.drift}
            options={DRIFT_KINDS.map(kind => ({
              value: kind,
              label: DRIFT_LABELS[kind],
            }))}
            onChange={setFilter('drift')}
          />
          {filters.drift && (
            <Filter
              label="Drift in"
              value={filters.driftEnvironment}
              options={environments.map(c => option(c.environment))}
              onChange={setFilter('driftEnvironment')}
            />
          )}
        </div>
        <div className={classes.figures}>
          {filters.owner ? (
            <OwnerFiguresPanel
              owner={filters.owner}
              days={days}
              onDays={setDays}
            />
          ) : (
            fleet && (
              <OwnerFiguresTable
                owners={owners}
                days={days}
                onDays={setDays}
                onOwner={chooseOwner}
              />
            )
          )}
        </div>
        {state.error && <ResponseErrorPanel error={state.error} />}
        {!fleet && !state.error && <Progress />}
        {fleet && (
          <>
            <FleetAge rows={fleet.rows} />
            <div className={classes.matrix}>
              <Table size="small" aria-label="Fleet">
                <TableHead>
                  <TableRow>
                    <TableCell className={classes.heading}>
                      {sortLabel({ by: 'name' }, 'Service')}
                    </TableCell>
                    <TableCell className={classes.heading}>
                      {sortLabel({ by: 'owner' }, 'Owner')}
                    </TableCell>
                    {environments.map(column => (
                      <TableCell
                        key={column.environment}
                        className={classes.heading}
                      >
                        {sortLabel(
                          { by: 'version', environment: column.environment },
                          column.environment,
                        )}
                        {sortLabel(
                          { by: 'drift', environment: column.environment },
                          'drift',
                        )}
                        <span className={classes.count}>
                          {columnCounts(column)}
                        </span>
                      </TableCell>
                    ))}
                  </TableRow>
                </TableHead>
                <TableBody>
                  {fleet.rows.map(row => (
                    <TableRow key={row.entityRef}>
                      <TableCell className={classes.service}>
                        <Link to={linkOf(row)}>{row.title}</Link>
                        <LastKnownStateMarker
                          asOf={row.asOf}
                          refreshError={row.refreshError}
                        />
                      </TableCell>
                      <TableCell>
                        {row.owner ? ownerLabel(row.owner) : ''}
                      </TableCell>
                      {environments.map(column => (
                        <Cell
                          key={column.environment}
                          environment={column.environment}
                          cell={row.environments[column.environment]}
                        />
                      ))}
                    </TableRow>
                  ))}
                  {fleet.rows.length === 0 && (
                    <TableRow>
                      <TableCell colSpan={2 + environments.length}>
                        No services match.
                      </TableCell>
                    </TableRow>
                  )}
                </TableBody>
              </Table>
            </div>
            <TablePagination
              component="div"
              count={fleet.total}
              page={page}
              rowsPerPage={limit}
              rowsPerPageOptions={[25, 50, 100, 200]}
              onPageChange={(_, next) => setPage(next)}
              onRowsPerPageChange={event => {
                setLimit(Number(event.target.value));
                setPage(0);
              }}
            />
            <Typography variant="caption" className={classes.note}>
              Counts include only the services you may see.
            </Typography>
          </>
        )}
      </Content>
    </Page>
  );
}
