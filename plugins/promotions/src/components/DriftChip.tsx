import Chip from '@material-ui/core/Chip';
import { makeStyles, useTheme } from '@material-ui/core/styles';
import { DriftKind } from '@gitops-promotions/plugin-promotions-common';
import { DRIFT_LABELS, driftColor } from './DriftBadge';

const useStyles = makeStyles(theme => ({
  chip: {
    fontWeight: 600,
    height: 18,
    fontSize: '0.7rem',
    margin: theme.spacing(0.25, 0.5, 0.25, 0),
  },
}));

/** A drift kind as a small chip in its colour, for the card's and the fleet page's rows. */
export function DriftChip(props: { kind: DriftKind; title?: string }) {
  const classes = useStyles();
  const theme = useTheme();
  const color = driftColor(theme, props.kind);
  return (
    <Chip
      size="small"
      className={classes.chip}
      // Inline, so every chip keeps its own colour whatever order the sheets load in.
      style={{
        backgroundColor: color,
        color: theme.palette.getContrastText(color),
      }}
      label={DRIFT_LABELS[props.kind] ?? props.kind}
      title={props.title ?? DRIFT_LABELS[props.kind] ?? props.kind}
      data-drift={props.kind}
    />
  );
}
