import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';

const useStyles = makeStyles(theme => ({
  diff: {
    fontFamily: 'monospace',
    fontSize: '0.8rem',
    margin: 0,
    padding: theme.spacing(1),
    overflow: 'auto',
    maxHeight: 360,
    background: theme.palette.background.default,
    border: `1px solid ${theme.palette.divider}`,
    borderRadius: theme.shape.borderRadius,
  },
  line: { whiteSpace: 'pre', display: 'block', minHeight: '1.2em' },
  added: { background: 'rgba(46, 160, 67, 0.18)' },
  removed: { background: 'rgba(248, 81, 73, 0.18)' },
  meta: { color: theme.palette.text.secondary },
}));

/** A unified diff, its added and removed lines coloured. */
export function DiffView(props: { diff: string; label: string }) {
  const classes = useStyles();
  const lines = props.diff
    .split('\n')
    .filter(line => !/^=+$/.test(line) && !line.startsWith('Index: '));
  if (!lines.some(line => /^[-+][^-+]/.test(line))) {
    return (
      <Typography variant="body2" color="textSecondary">
        No change.
      </Typography>
    );
  }
  return (
    <pre className={classes.diff} aria-label={props.label}>
      {lines.map((line, index) => {
        let kind = '';
        if (/^(---|\+\+\+|@@)/.test(line)) kind = classes.meta;
        else if (line.startsWith('+')) kind = classes.added;
        else if (line.startsWith('-')) kind = classes.removed;
        return (
          <code key={index} className={`${classes.line} ${kind}`}>
            {line}
          </code>
        );
      })}
    </pre>
  );
}
