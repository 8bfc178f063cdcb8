import Chip from '@material-ui/core/Chip';
import Typography from '@material-ui/core/Typography';
import { purple, teal } from '@material-ui/core/colors';
import { makeStyles, Theme } from '@material-ui/core/styles';
import {
  ConfigDifference,
  Drift,
  DriftKind,
  shortKey,
} from '@gitops-promotions/plugin-promotions-common';

/** What each kind of drift is called on its chip. */
export const DRIFT_LABELS: Record<DriftKind, string> = {
  behind: 'behind',
  ahead: 'ahead',
  differs: 'differs',
  config: 'config',
  'out-of-sync': 'out of sync',
  'live-mismatch': 'live mismatch',
  'waiting-for-sync': 'waiting for sync',
  'stale-promotion': 'stale promotion',
};

/** A kind this version does not know (from a newer backend) is drawn grey, never a crash. */
export const driftColor = (theme: Theme, kind: DriftKind): string =>
  ({
    behind: theme.palette.warning.main,
    ahead: theme.palette.info.dark,
    differs: teal[700],
    config: purple[500],
    'out-of-sync': theme.palette.error.dark,
    'live-mismatch': theme.palette.error.dark,
    'waiting-for-sync': theme.palette.info.dark,
    'stale-promotion': theme.palette.grey[600],
  }[kind] ?? theme.palette.grey[600]);

const useStyles = makeStyles(theme => ({
  drift: (props: { kind: DriftKind }) => ({
    borderLeft: `3px solid ${driftColor(theme, props.kind)}`,
    padding: theme.spacing(0.5, 0, 0.5, 1),
    marginTop: theme.spacing(1),
  }),
  chip: (props: { kind: DriftKind }) => ({
    backgroundColor: driftColor(theme, props.kind),
    color: theme.palette.getContrastText(driftColor(theme, props.kind)),
    fontWeight: 600,
    height: 20,
    marginBottom: theme.spacing(0.5),
  }),
  summary: { overflowWrap: 'anywhere' },
  differences: {
    margin: theme.spacing(0.5, 0, 0),
    padding: 0,
    listStyle: 'none',
  },
  difference: {
    marginTop: theme.spacing(0.5),
    fontFamily: theme.typography.fontFamily,
    fontSize: '0.8rem',
    overflowWrap: 'anywhere',
  },
  key: { fontFamily: 'monospace', fontWeight: 700 },
  value: { fontFamily: 'monospace' },
  fullKey: {
    fontFamily: 'monospace',
    fontSize: '0.7rem',
    color: theme.palette.text.secondary,
  },
}));

function DifferenceLine(props: {
  difference: ConfigDifference;
  environment: string;
  upstream: string;
}) {
  const { difference, environment, upstream } = props;
  const classes = useStyles({ kind: 'config' });
  return (
    <li className={classes.difference} title={difference.key}>
      {difference.secret ? (
        <div>
          <span className={classes.key}>{shortKey(difference.key)}</span>{' '}
          differs between {upstream} and {environment} (a secret: its values are
          not shown)
        </div>
      ) : (
        <div>
          <span className={classes.key}>{shortKey(difference.key)}</span>:{' '}
          <span className={classes.value}>
            {difference.upstreamValue ?? 'absent'}
          </span>{' '}
          in {upstream} vs{' '}
          <span className={classes.value}>{difference.value ?? 'absent'}</span>{' '}
          in {environment}
        </div>
      )}
      <div className={classes.fullKey}>{difference.key}</div>
    </li>
  );
}

/**
 * One drift of an environment: a chip naming its kind, the line that explains it and, for config
 * drift, each differing key with its value upstream and here.
 *
 * @public
 */
export function DriftBadge(props: { drift: Drift; environment: string }) {
  const { drift, environment } = props;
  const classes = useStyles({ kind: drift.kind });
  return (
    <div
      className={classes.drift}
      role="group"
      aria-label={`Drift: ${DRIFT_LABELS[drift.kind] ?? drift.kind}`}
    >
      <Chip
        size="small"
        label={DRIFT_LABELS[drift.kind] ?? drift.kind}
        className={classes.chip}
      />
      <Typography variant="body2" className={classes.summary}>
        {drift.summary}
      </Typography>
      {drift.kind === 'config' && (drift.differences?.length ?? 0) > 0 && (
        <ul
          className={classes.differences}
          aria-label={`Config differences from ${drift.upstream}`}
        >
          {drift.differences.map(difference => (
            <DifferenceLine
              key={difference.key}
              difference={difference}
              environment={environment}
              upstream={drift.upstream}
            />
          ))}
        </ul>
      )}
    </div>
  );
}
