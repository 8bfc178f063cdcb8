import Card from '@material-ui/core/Card';
import CardContent from '@material-ui/core/CardContent';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import CheckCircleIcon from '@material-ui/icons/CheckCircle';
import { EnvironmentState, ImageRef } from '@gitops-promotions/plugin-promotions-common';
import { DriftBadge } from './DriftBadge';
import { absoluteTime, relativeTime } from './time';

const useStyles = makeStyles(theme => ({
  card: { width: 300, marginBottom: theme.spacing(2) },
  header: { display: 'flex', justifyContent: 'space-between', alignItems: 'baseline' },
  version: { fontFamily: 'monospace', fontSize: '1.6rem', fontWeight: 700 },
  mono: { fontFamily: 'monospace', fontSize: '0.8rem', wordBreak: 'break-all' },
  label: { color: theme.palette.text.secondary, fontSize: '0.75rem', textTransform: 'uppercase', marginTop: theme.spacing(1) },
  inSync: { display: 'flex', alignItems: 'center', gap: theme.spacing(0.5), color: theme.palette.success.main, marginTop: theme.spacing(1) },
  error: { color: theme.palette.error.main, marginTop: theme.spacing(1) },
  muted: { color: theme.palette.text.secondary },
}));

const shortDigest = (digest: string) => digest.replace(/^(sha256:[0-9a-f]{12}).*$/, '$1');

export function formatImageRef(image: ImageRef): string {
  return `${image.name}${image.tag ? `:${image.tag}` : ''}${image.digest ? `@${shortDigest(image.digest)}` : ''}`;
}

/** One environment: its desired version, images, path, last change and drift. */
export function EnvironmentCard({ environment }: { environment: EnvironmentState }) {
  const classes = useStyles();
  const { desired, drift } = environment;
  const change = desired.lastChange;
  return (
    <Card className={classes.card} role="region" aria-label={`Environment ${environment.name}`} variant="outlined">
      <CardContent>
        <div className={classes.header}>
          <Typography variant="h6">{environment.name}</Typography>
          {environment.requires.length > 0 && (
            <Typography variant="caption" className={classes.muted}>
              from {environment.requires.join(', ')}
            </Typography>
          )}
        </div>
        <Typography className={classes.version} aria-label="Desired version">
          {desired.version ?? '—'}
        </Typography>

        <Typography className={classes.label}>Images</Typography>
        {desired.images.length === 0 && <Typography className={classes.muted}>none found</Typography>}
        {desired.images.map(image => (
          <Typography key={formatImageRef(image)} className={classes.mono} title={image.digest ?? undefined}>
            {formatImageRef(image)}
          </Typography>
        ))}

        <Typography className={classes.label}>Path</Typography>
        <Typography className={classes.mono}>{desired.path}</Typography>

        <Typography className={classes.label}>Last change</Typography>
        {change ? (
          <Typography variant="body2">
            <span className={classes.mono}>{change.commit.slice(0, 7)}</span> by {change.author},{' '}
            <span title={absoluteTime(change.at)}>{relativeTime(change.at)}</span>
            {change.pullRequest !== null && (
              <>
                {' · '}
                <span aria-label={`Pull request #${change.pullRequest}`}>#{change.pullRequest}</span>
              </>
            )}
            <br />
            <span className={classes.muted}>{change.message}</span>
          </Typography>
        ) : (
          <Typography className={classes.muted}>unknown</Typography>
        )}

        <Typography className={classes.label}>Live state</Typography>
        <Typography variant="body2" className={classes.muted}>
          {environment.live ? 'reported by Argo CD' : 'not configured'}
        </Typography>

        {environment.error && (
          <Typography variant="body2" className={classes.error} role="alert">
            {environment.error}
          </Typography>
        )}
        {drift.map(item => (
          <DriftBadge key={`${item.kind}-${'upstream' in item ? item.upstream : ''}`} drift={item} />
        ))}
        {drift.length === 0 && !environment.error && (
          <Typography variant="body2" className={classes.inSync}>
            <CheckCircleIcon fontSize="small" /> No drift
          </Typography>
        )}
      </CardContent>
    </Card>
  );
}
