import Chip from '@material-ui/core/Chip';
import Link from '@material-ui/core/Link';
import Typography from '@material-ui/core/Typography';
import { makeStyles, Theme, useTheme } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import {
  LiveApplication,
  LiveRollout,
  LiveState,
} from '@gitops-promotions/plugin-promotions-common';
import { absoluteTime, relativeTime } from './time';

/** Progressing and Suspended are on their way, not failures: only Degraded and Missing are red. */
export const healthColor = (
  theme: Theme,
  health: LiveApplication['healthStatus'],
) =>
  ({
    Healthy: theme.palette.success.main,
    Progressing: theme.palette.info.dark,
    Suspended: theme.palette.info.dark,
    Degraded: theme.palette.error.dark,
    Missing: theme.palette.error.dark,
    Unknown: theme.palette.grey[600],
  }[health] ?? theme.palette.grey[600]);

const syncColor = (theme: Theme, sync: LiveApplication['syncStatus']) =>
  ({
    Synced: theme.palette.success.main,
    OutOfSync: theme.palette.error.dark,
    Unknown: theme.palette.grey[600],
  }[sync] ?? theme.palette.grey[600]);

const useChipStyles = makeStyles(theme => ({
  chip: (props: { color: string }) => ({
    backgroundColor: props.color,
    color: theme.palette.getContrastText(props.color),
    fontWeight: 600,
    height: 20,
  }),
}));

const useStyles = makeStyles(theme => ({
  panel: { marginTop: theme.spacing(1.5) },
  label: {
    color: theme.palette.text.secondary,
    fontSize: '0.7rem',
    fontWeight: 600,
    letterSpacing: '0.05em',
    textTransform: 'uppercase',
  },
  application: {
    marginTop: theme.spacing(0.75),
    paddingLeft: theme.spacing(1),
    borderLeft: `2px solid ${theme.palette.divider}`,
  },
  name: { fontWeight: 600, overflowWrap: 'anywhere' },
  chips: { display: 'flex', gap: theme.spacing(0.5), flexWrap: 'wrap' },
  line: { fontSize: '0.8rem', overflowWrap: 'anywhere' },
  mono: {
    fontFamily: 'monospace',
    fontSize: '0.8rem',
    overflowWrap: 'anywhere',
  },
  muted: { color: theme.palette.text.secondary, fontSize: '0.8rem' },
  alert: { marginTop: theme.spacing(0.5), overflowWrap: 'anywhere' },
}));

function StatusChip(props: { label: string; color: string; title: string }) {
  const classes = useChipStyles({ color: props.color });
  return (
    <Chip
      size="small"
      label={props.label}
      title={props.title}
      className={classes.chip}
    />
  );
}

/** `Canary step 2 of 5, weight 20%, paused`: where an Argo Rollout stands. */
export function rolloutText(rollout: LiveRollout): string {
  const step =
    rollout.step === null
      ? 'Canary'
      : `Canary step ${rollout.step}${
          rollout.steps !== null ? ` of ${rollout.steps}` : ''
        }`;
  const parts = [step];
  if (rollout.weight !== null) parts.push(`weight ${rollout.weight}%`);
  if (rollout.aborted) parts.push('aborted');
  else if (rollout.paused) parts.push('paused');
  return parts.join(', ');
}

function Rollout({ rollout }: { rollout: LiveRollout }) {
  const classes = useStyles();
  const under = rollout.canaryImage !== rollout.stableImage;
  return (
    <div role="group" aria-label={`Rollout ${rollout.name}`}>
      <Typography className={classes.line}>{rolloutText(rollout)}</Typography>
      {under ? (
        <>
          <Typography className={classes.mono}>
            stable {rollout.stableImage ?? 'unknown'}
          </Typography>
          <Typography className={classes.mono}>
            canary {rollout.canaryImage ?? 'unknown'}
          </Typography>
        </>
      ) : (
        <Typography className={classes.mono}>
          stable {rollout.stableImage ?? 'unknown'}
        </Typography>
      )}
    </div>
  );
}

function Application({ application }: { application: LiveApplication }) {
  const classes = useStyles();
  const theme = useTheme();
  const { operation } = application;
  const failed =
    operation && ['Failed', 'Error'].includes(operation.phase)
      ? operation
      : null;
  return (
    <div
      role="group"
      aria-label={`Application ${application.name}`}
      className={classes.application}
    >
      <Typography className={classes.name}>
        {application.url ? (
          <Link href={application.url} target="_blank" rel="noopener">
            {application.name}
          </Link>
        ) : (
          application.name
        )}
      </Typography>
      <Typography
        className={classes.muted}
        title={`mapped by ${application.mapping}`}
      >
        {application.instance} · {application.namespace} · mapped by{' '}
        {application.mapping}
      </Typography>
      <div className={classes.chips}>
        <StatusChip
          label={application.syncStatus}
          title="Sync status"
          color={syncColor(theme, application.syncStatus)}
        />
        <StatusChip
          label={application.healthStatus}
          title={application.healthMessage ?? 'Health'}
          color={healthColor(theme, application.healthStatus)}
        />
      </div>
      {application.revision && (
        <Typography className={classes.mono} title={application.revision}>
          revision {application.revision.slice(0, 12)}
        </Typography>
      )}
      {application.images.map(image => (
        <Typography key={image} className={classes.mono}>
          {image}
        </Typography>
      ))}
      <Typography
        className={classes.muted}
        title={
          application.syncedAt ? absoluteTime(application.syncedAt) : undefined
        }
      >
        {application.syncedAt
          ? `synced ${relativeTime(application.syncedAt)}`
          : 'never synced'}
      </Typography>
      {failed && (
        <Alert severity="error" className={classes.alert}>
          Sync {failed.phase.toLowerCase()}
          {failed.message ? `: ${failed.message}` : ''}
        </Alert>
      )}
      {application.rollout && <Rollout rollout={application.rollout} />}
    </div>
  );
}

/**
 * What really runs in one environment: every application deploying it, or that live state is
 * not configured, or that its source was unreachable with the age of what is shown.
 */
export function LiveStatePanel({ live }: { live: LiveState | null }) {
  const classes = useStyles();
  return (
    <section aria-label="Live state" className={classes.panel}>
      <Typography className={classes.label}>Live</Typography>
      {!live && (
        <Typography className={classes.muted}>Not configured</Typography>
      )}
      {live && !live.reachable && (
        <Alert severity="warning" className={classes.alert}>
          Unreachable
          {live.asOf
            ? `: last known state from ${relativeTime(live.asOf)}`
            : ': no state known yet'}
          {live.error ? ` (${live.error})` : ''}
        </Alert>
      )}
      {live && live.reachable && live.error && (
        <Alert severity="info" className={classes.alert}>
          {live.error}
        </Alert>
      )}
      {live &&
        live.applications.length === 0 &&
        (live.reachable || live.asOf) && (
          <Typography className={classes.muted}>
            No application deploys this environment
          </Typography>
        )}
      {live?.applications.map(application => (
        <Application
          key={`${application.source}/${application.instance}/${application.namespace}/${application.name}`}
          application={application}
        />
      ))}
    </section>
  );
}
