import { useCallback, useEffect, useState } from 'react';
import { CompoundEntityRef } from '@backstage/catalog-model';
import { useApi } from '@backstage/core-plugin-api';
import Button from '@material-ui/core/Button';
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
import { HistoryEntry } from '@gitops-promotions/plugin-promotions-common';
import { promotionsApiRef } from '../../api';
import { absoluteTime, relativeTime } from '../time';
import { messageOf } from './PromoteDialog';

const useStyles = makeStyles(theme => ({
  header: {
    display: 'flex',
    alignItems: 'center',
    gap: theme.spacing(2),
    marginTop: theme.spacing(4),
  },
  filter: { minWidth: 180 },
  more: { marginTop: theme.spacing(1) },
}));

const PAGE = 25;

const ACTIONS: Record<HistoryEntry['action'], string> = {
  requested: 'Asked for',
  approved: 'Approved',
  rejected: 'Rejected',
  merged: 'Merged',
  closed: 'Closed',
  superseded: 'Superseded',
  overridden: 'Overrode gates',
  frozen: 'Froze',
  unfrozen: 'Lifted the freeze',
  failed: 'Failed',
  changed: 'Branch changed',
  queued: 'Queued to merge',
  unqueued: 'Taken off the merge queue',
};

/** Every request, decision, merge, override, freeze and failure, newest first, a page at a time. */
export function HistoryTable(props: {
  entity: CompoundEntityRef;
  environments: string[];
  /** Changes when something happened, to read the first page again. */
  version: number;
}) {
  const classes = useStyles();
  const api = useApi(promotionsApiRef);
  const [environment, setEnvironment] = useState('');
  const [entries, setEntries] = useState<HistoryEntry[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<string>();
  const load = useCallback(
    async (before?: number) => {
      try {
        const page = await api.history(props.entity, {
          environment: environment || undefined,
          before,
          limit: PAGE,
        });
        setEntries(current =>
          before ? [...current, ...page.entries] : page.entries,
        );
        setNext(page.next);
        setError(undefined);
      } catch (e) {
        setError(messageOf(e));
      }
    },
    [api, props.entity, environment],
  );
  useEffect(() => {
    load();
  }, [load, props.version]);

  return (
    <section aria-label="History">
      <div className={classes.header}>
        <Typography variant="h6" component="h2">
          History
        </Typography>
        <TextField
          select
          size="small"
          id="history-environment"
          label="Environment"
          InputLabelProps={{ shrink: true }}
          SelectProps={{ displayEmpty: true }}
          value={environment}
          className={classes.filter}
          onChange={e => setEnvironment(e.target.value)}
        >
          <MenuItem value="">All</MenuItem>
          {props.environments.map(name => (
            <MenuItem key={name} value={name}>
              {name}
            </MenuItem>
          ))}
        </TextField>
      </div>
      {error && <Alert severity="error">{error}</Alert>}
      {entries.length === 0 && !error ? (
        <Typography variant="body2" color="textSecondary">
          Nothing has happened here through the portal yet.
        </Typography>
      ) : (
        <Table size="small">
          <TableHead>
            <TableRow>
              <TableCell>When</TableCell>
              <TableCell>Environment</TableCell>
              <TableCell>What</TableCell>
              <TableCell>Version</TableCell>
              <TableCell>Who</TableCell>
              <TableCell>Pull request</TableCell>
              <TableCell>Comment</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {entries.map(entry => (
              <TableRow key={entry.id}>
                <TableCell title={absoluteTime(entry.at)}>
                  {relativeTime(entry.at)}
                </TableCell>
                <TableCell>
                  {entry.environment === '*'
                    ? 'every environment'
                    : entry.environment}
                </TableCell>
                <TableCell>
                  {ACTIONS[entry.action] ?? entry.action}
                  {entry.kind === 'rollback' && ' (rollback)'}
                </TableCell>
                <TableCell>{entry.version ?? ''}</TableCell>
                <TableCell>
                  {entry.actor.replace(/^user:default\//, '')}
                </TableCell>
                <TableCell>
                  {entry.pullRequest ? `#${entry.pullRequest}` : ''}
                </TableCell>
                <TableCell>{entry.comment ?? ''}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {next !== null && (
        <Button className={classes.more} onClick={() => load(next)}>
          Older
        </Button>
      )}
    </section>
  );
}
