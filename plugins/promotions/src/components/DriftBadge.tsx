import Chip from '@material-ui/core/Chip';
import Typography from '@material-ui/core/Typography';
import { makeStyles, Theme } from '@material-ui/core/styles';
import { Drift, DriftKind } from '@gitops-promotions/plugin-promotions-common';

const colors = (theme: Theme): Record<DriftKind, string> => ({
  behind: theme.palette.warning.main,
  ahead: theme.palette.info.main,
  config: theme.palette.secondary.main,
  'out-of-sync': theme.palette.error.main,
  'live-mismatch': theme.palette.error.main,
  'stale-promotion': theme.palette.grey[600],
});

const useStyles = makeStyles(theme => ({
  drift: { marginTop: theme.spacing(1) },
  chip: (props: { kind: DriftKind }) => ({
    backgroundColor: colors(theme)[props.kind],
    color: theme.palette.getContrastText(colors(theme)[props.kind]),
    fontWeight: 600,
    marginRight: theme.spacing(1),
  }),
  differences: {
    margin: theme.spacing(0.5, 0, 0, 2),
    padding: 0,
    fontFamily: 'monospace',
    fontSize: '0.8rem',
    overflowWrap: 'anywhere',
  },
}));

/** One drift: a named chip and the one line that explains it, and the differing keys of config drift. */
export function DriftBadge({ drift }: { drift: Drift }) {
  const classes = useStyles({ kind: drift.kind });
  return (
    <div className={classes.drift} aria-label={`Drift ${drift.kind}`}>
      <Chip size="small" label={drift.kind} className={classes.chip} />
      <Typography component="span" variant="body2">
        {drift.summary}
      </Typography>
      {drift.kind === 'config' && (
        <ul className={classes.differences}>
          {drift.differences.map(difference => (
            <li key={difference.key} title={difference.key}>
              {difference.key.split(' ').pop()}: {difference.value ?? 'absent'} here vs{' '}
              {difference.upstreamValue ?? 'absent'} in {drift.upstream}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
