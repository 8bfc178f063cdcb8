import { useState } from 'react';
import {
  Content,
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
import { makeStyles } from '@material-ui/core/styles';
import {
  DRIFT_KINDS,
  DriftKind,
  FleetCell,
  FleetColumn,
  FleetQuery,
  FleetRow,
  FleetSort,
} from '@gitops-promotions/plugin-promotions-common';
import useAsync from 'react-use/esm/useAsync';
import { promotionsApiRef } from '../api';
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
  cell: (props: { kind?: DriftKind }) => ({
    borderLeft: props.kind
      ? `4px solid ${driftColor(theme, props.kind)}`
      : `4px solid transparent`,
    verticalAlign: 'top',
  }),
  version: { fontFamily: 'monospace', overflowWrap: 'anywhere' },
  note: { marginTop: theme.spacing(1) },
}));

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
            options={(fleet?.facets.owners ?? []).map(option)}
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
        {state.error && <ResponseErrorPanel error={state.error} />}
        {!fleet && !state.error && <Progress />}
        {fleet && (
          <>
            <Table size="small" aria-label="Fleet">
              <TableHead>
                <TableRow>
                  <TableCell>{sortLabel({ by: 'name' }, 'Service')}</TableCell>
                  <TableCell>{sortLabel({ by: 'owner' }, 'Owner')}</TableCell>
                  {environments.map(column => (
                    <TableCell key={column.environment}>
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
                    <TableCell>
                      <Link to={linkOf(row)}>{row.title}</Link>
                    </TableCell>
                    <TableCell>{row.owner ?? ''}</TableCell>
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
