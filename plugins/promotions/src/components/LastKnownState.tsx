import Tooltip from '@material-ui/core/Tooltip';
import { makeStyles } from '@material-ui/core/styles';
import WarningIcon from '@material-ui/icons/Warning';
import { absoluteTime, relativeTime } from './time';

const useStyles = makeStyles(theme => ({
  marker: {
    color: theme.palette.warning.main,
    verticalAlign: 'middle',
    marginLeft: theme.spacing(0.5),
  },
}));

/** "Last known state, read 3 hours ago: the refresh 5 minutes ago failed" */
export function lastKnownStateText(
  asOf: string | null,
  refreshError: { at: string },
): string {
  return `${
    asOf ? `Last known state, read ${relativeTime(asOf)}` : 'Not read yet'
  }: the refresh ${relativeTime(refreshError.at)} failed`;
}

/**
 * A warning sign beside a row whose repository's last refresh failed: it says so, and on hover
 * when each happened and why the refresh failed.
 */
export function LastKnownStateMarker(props: {
  asOf: string | null;
  refreshError?: { message: string; at: string };
}) {
  const classes = useStyles();
  const { asOf, refreshError } = props;
  if (!refreshError) return null;
  const label = lastKnownStateText(asOf, refreshError);
  const title = `${label} (read ${
    asOf ? absoluteTime(asOf) : 'never'
  }, failed ${absoluteTime(refreshError.at)}): ${refreshError.message}`;
  return (
    <Tooltip title={title}>
      <span role="img" aria-label={label} className={classes.marker}>
        <WarningIcon fontSize="small" />
      </span>
    </Tooltip>
  );
}

/**
 * The oldest and newest of some read times, or undefined when none was read: what a page
 * showing state read at several times says of its age.
 */
export function ageRange(
  times: Array<string | null>,
): { oldest: string; newest: string } | undefined {
  const read = times
    .filter((t): t is string => t !== null && !Number.isNaN(Date.parse(t)))
    .sort((a, b) => Date.parse(a) - Date.parse(b));
  if (!read.length) return undefined;
  return { oldest: read[0], newest: read[read.length - 1] };
}

/** "Read 3 hours ago" or "Read between 3 hours ago and 5 minutes ago", exact times on hover. */
export function DataAgeRange(props: { times: Array<string | null> }) {
  const range = ageRange(props.times);
  if (!range) return null;
  const { oldest, newest } = range;
  const at = (iso: string) => (
    <span title={absoluteTime(iso)}>{relativeTime(iso)}</span>
  );
  return relativeTime(oldest) === relativeTime(newest) ? (
    <>Read {at(newest)}</>
  ) : (
    <>
      Read between {at(oldest)} and {at(newest)}
    </>
  );
}
