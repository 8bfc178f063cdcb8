import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { getCompoundEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
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
import {
  PromotionGroup,
  SystemPromotions,
} from '@gitops-promotions/plugin-promotions-common';
import { useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { promotionsApiRef } from '../api';

const useStyles = makeStyles(theme => ({
  version: { fontFamily: 'monospace' },
  group: {
    padding: theme.spacing(1, 0),
    borderBottom: `1px solid ${theme.palette.divider}`,
  },
  actions: {
    display: 'flex',
    gap: theme.spacing(1),
    marginTop: theme.spacing(1),
  },
}));

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
  const candidates = data.components.filter(c =>
    c.environments.some(e => e.name === to),
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
            label={c.title ?? c.entityRef}
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
  return (
    <li className={classes.group} aria-label={`Group to ${group.environment}`}>
      <Typography variant="subtitle2">
        To {group.environment} <Chip size="small" label={group.state} />{' '}
        requested by {group.requestedBy}
      </Typography>
      <Typography variant="body2">
        {group.members
          .map(m => `${m.entityRef} ${m.version} (${m.state})`)
          .join(', ')}
      </Typography>
      {group.reason && (
        <Typography variant="body2" color="error">
          {group.reason}
        </Typography>
      )}
      {active &&
        group.blocking.map(b => (
          <Typography key={b.promotionId} variant="body2" color="textSecondary">
            Waiting for {b.entityRef}: {b.reason}
          </Typography>
        ))}
      {active && (
        <div className={classes.actions}>
          <Button
            size="small"
            variant="outlined"
            color="primary"
            disabled={busy || group.blocking.length > 0}
            onClick={() => act(() => api.mergePromotionGroup(group.id))}
          >
            Merge all
          </Button>
          <Button
            size="small"
            disabled={busy}
            onClick={() => act(() => api.closePromotionGroup(group.id))}
          >
            Close
          </Button>
        </div>
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
          <Button
            color="primary"
            variant="contained"
            disabled={!data.components.length}
            onClick={() => setDialog(true)}
          >
            Promote together
          </Button>
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
                  <TableCell>{c.title ?? c.entityRef}</TableCell>
                  {environments.map(name => (
                    <TableCell key={name} className={classes.version}>
                      {c.environments.find(e => e.name === name)?.version ??
                        '—'}
                    </TableCell>
                  ))}
                </TableRow>
              ))}
            </TableBody>
          </Table>
        ) : (
          <Typography>This system has no components you may see.</Typography>
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
