import { ReactNode } from 'react';
import Card from '@material-ui/core/Card';
import CardContent from '@material-ui/core/CardContent';
import Typography from '@material-ui/core/Typography';
import { makeStyles, Theme } from '@material-ui/core/styles';
import { green } from '@material-ui/core/colors';
import Alert from '@material-ui/lab/Alert';
import CheckCircleIcon from '@material-ui/icons/CheckCircle';
import InfoOutlinedIcon from '@material-ui/icons/InfoOutlined';
import {
  EnvironmentSource,
  EnvironmentState,
  formatImage,
  ImageRef,
  LastChange,
} from '@gitops-promotions/plugin-promotions-common';
import { DriftBadge } from './DriftBadge';
import { LiveStatePanel } from './LiveStatePanel';
import { absoluteTime, relativeTime } from './time';

/** The colour along the top of a card: red for errors and live trouble, amber for drift, green in sync. */
function statusColor(theme: Theme, environment: EnvironmentState): string {
  const kinds = environment.drift.map(drift => drift.kind);
  if (
    environment.error ||
    kinds.includes('out-of-sync') ||
    kinds.includes('live-mismatch')
  ) {
    return theme.palette.error.main;
  }
  return kinds.length > 0
    ? theme.palette.warning.main
    : theme.palette.success.main;
}

const useCardStyles = makeStyles(theme => ({
  card: (props: { environment: EnvironmentState }) => ({
    width: 320,
    borderTop: `4px solid ${statusColor(theme, props.environment)}`,
  }),
}));

const useStyles = makeStyles(theme => ({
  header: {
    display: 'flex',
    justifyContent: 'space-between',
    alignItems: 'baseline',
    gap: theme.spacing(1),
  },
  name: { fontWeight: 600 },
  upstream: { color: theme.palette.text.secondary, whiteSpace: 'nowrap' },
  version: {
    fontFamily: 'monospace',
    fontSize: '1.6rem',
    fontWeight: 700,
    lineHeight: 1.3,
    overflowWrap: 'anywhere',
  },
  label: {
    color: theme.palette.text.secondary,
    fontSize: '0.7rem',
    fontWeight: 600,
    letterSpacing: '0.05em',
    textTransform: 'uppercase',
    marginTop: theme.spacing(1.5),
  },
  mono: {
    fontFamily: 'monospace',
    fontSize: '0.8rem',
    overflowWrap: 'anywhere',
  },
  muted: { color: theme.palette.text.secondary },
  inSync: {
    display: 'flex',
    alignItems: 'center',
    gap: theme.spacing(0.5),
    // The theme's green is too light for text on a white card (2.8:1); this one reads at 5:1.
    color:
      theme.palette.type === 'light' ? green[800] : theme.palette.success.main,
    fontWeight: 600,
    marginTop: theme.spacing(1),
  },
  error: { marginTop: theme.spacing(1), overflowWrap: 'anywhere' },
  notes: {
    color: theme.palette.text.secondary,
    marginTop: theme.spacing(1),
    overflowWrap: 'anywhere',
  },
  notesTitle: {
    display: 'flex',
    alignItems: 'center',
    gap: theme.spacing(0.5),
  },
  noteList: {
    margin: theme.spacing(0.25, 0, 0),
    paddingLeft: theme.spacing(2.5),
  },
}));

/** Notes shown on a card, and the characters of each: the backend cuts them, this guards the page. */
const MAX_NOTES = 50;
const MAX_NOTE_LENGTH = 1000;

/**
 * What the backend skipped without failing (`Not read: vars (<file>)`): said quietly, since it is
 * no error, but said, since the version shown may have missed it.
 */
function Notes({ notes }: { notes: string[] }) {
  const classes = useStyles();
  const shown = notes
    .slice(0, MAX_NOTES)
    .map(note =>
      note.length > MAX_NOTE_LENGTH
        ? `${note.slice(0, MAX_NOTE_LENGTH - 1)}…`
        : note,
    );
  return (
    <div role="note" aria-label="Resolution notes" className={classes.notes}>
      <Typography
        variant="caption"
        component="div"
        className={classes.notesTitle}
      >
        <InfoOutlinedIcon fontSize="inherit" aria-hidden /> Not everything was
        read; the version shown may miss it
      </Typography>
      <ul className={classes.noteList}>
        {shown.map((note, index) => (
          <Typography key={`${index}-${note}`} variant="caption" component="li">
            {note}
          </Typography>
        ))}
        {notes.length > shown.length && (
          <Typography variant="caption" component="li">
            …and {notes.length - shown.length} more
          </Typography>
        )}
      </ul>
    </div>
  );
}

/**
 * An image as `name:tag@shortdigest`, each part when known.
 *
 * @public
 */
export const formatImageRef = (image: ImageRef) =>
  formatImage(image, { short: true });

function Section(props: { label: string; children: ReactNode }) {
  const classes = useStyles();
  return (
    <div role="group" aria-label={props.label}>
      <Typography className={classes.label}>{props.label}</Typography>
      {props.children}
    </div>
  );
}

function LastChangeLine({ change }: { change: LastChange }) {
  const classes = useStyles();
  return (
    <Typography variant="body2" component="div">
      <span className={classes.mono} title={change.commit}>
        {change.commit.slice(0, 7)}
      </span>{' '}
      by {change.author},{' '}
      <span title={absoluteTime(change.at)}>{relativeTime(change.at)}</span>
      {change.pullRequest !== null && (
        <>
          {' · '}
          <span aria-label={`Pull request #${change.pullRequest}`}>
            #{change.pullRequest}
          </span>
        </>
      )}
      <div className={classes.muted}>{change.message.split('\n')[0]}</div>
    </Typography>
  );
}

/** Where an environment is read from, in a few words: `tag v1.2.0-prod (v*-prod)`. */
export function sourceText(source: EnvironmentSource): string {
  const what =
    source.kind === 'commit'
      ? `commit ${source.ref.slice(0, 12)}`
      : `${source.kind} ${source.ref}`;
  const pattern = source.pattern ? ` (${source.pattern})` : '';
  return `${what}${pattern} of ${source.repositoryId}`;
}

/**
 * One environment: its desired version, drift, images, path and last change.
 *
 * @public
 */
export function EnvironmentCard({
  environment,
  children,
}: {
  environment: EnvironmentState;
  /** What the user may do to the environment, shown at the card's foot. */
  children?: ReactNode;
}) {
  const classes = useStyles();
  const cardClasses = useCardStyles({ environment });
  const { desired, drift } = environment;
  return (
    <Card
      className={cardClasses.card}
      role="region"
      aria-label={`Environment ${environment.name}`}
      variant="outlined"
    >
      <CardContent>
        <div className={classes.header}>
          <Typography variant="h6" component="h3" className={classes.name}>
            {environment.name}
          </Typography>
          {environment.requires.length > 0 && (
            <Typography variant="caption" className={classes.upstream}>
              ← from {environment.requires.join(', ')}
            </Typography>
          )}
        </div>
        <Typography className={classes.version} aria-label="Desired version">
          {desired.version ?? '—'}
        </Typography>
        {desired.versionSource === 'appVersion' && (
          <Typography
            variant="caption"
            component="div"
            className={classes.muted}
          >
            the chart's appVersion: the tag value is empty
          </Typography>
        )}

        {environment.error && (
          <Alert severity="error" className={classes.error}>
            {environment.error}
          </Alert>
        )}
        {drift.map((item, index) => (
          <DriftBadge
            key={`${item.kind}-${index}`}
            drift={item}
            environment={environment.name}
          />
        ))}
        {drift.length === 0 && !environment.error && (
          <Typography variant="body2" className={classes.inSync}>
            <CheckCircleIcon fontSize="small" aria-hidden /> In sync
          </Typography>
        )}
        {/* Absent from states computed before notes existed. */}
        {environment.notes && environment.notes.length > 0 && (
          <Notes notes={environment.notes} />
        )}

        <Section label="Images">
          {desired.images.length === 0 && (
            <Typography variant="body2" className={classes.muted}>
              none found
            </Typography>
          )}
          {desired.images.map((image, index) => (
            <Typography
              key={`${formatImageRef(image)}-${index}`}
              className={classes.mono}
              title={image.digest ?? undefined}
            >
              {formatImageRef(image)}
            </Typography>
          ))}
        </Section>
        {desired.source && (
          <Section label="Read from">
            <Typography
              className={classes.mono}
              title={`commit ${desired.source.revision}`}
            >
              {sourceText(desired.source)}
            </Typography>
          </Section>
        )}
        <Section label="Path">
          <Typography className={classes.mono}>{desired.path}</Typography>
        </Section>
        <Section label="Last change">
          {desired.lastChange ? (
            <LastChangeLine change={desired.lastChange} />
          ) : (
            <Typography variant="body2" className={classes.muted}>
              unknown
            </Typography>
          )}
        </Section>

        <LiveStatePanel live={environment.live} />
        {children}
      </CardContent>
    </Card>
  );
}
