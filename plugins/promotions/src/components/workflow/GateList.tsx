import List from '@material-ui/core/List';
import ListItem from '@material-ui/core/ListItem';
import ListItemIcon from '@material-ui/core/ListItemIcon';
import ListItemText from '@material-ui/core/ListItemText';
import { makeStyles } from '@material-ui/core/styles';
import CheckCircleIcon from '@material-ui/icons/CheckCircle';
import HighlightOffIcon from '@material-ui/icons/HighlightOff';
import ScheduleIcon from '@material-ui/icons/Schedule';
import { GateEvaluation } from '@gitops-promotions/plugin-promotions-common';
import { absoluteTime, relativeTime } from '../time';

const useStyles = makeStyles(theme => ({
  icon: { minWidth: 28 },
  passed: { color: theme.palette.success.main },
  pending: { color: theme.palette.warning.main },
  failed: { color: theme.palette.error.main },
  item: { paddingTop: 0, paddingBottom: 0 },
}));

const ICONS = {
  passed: CheckCircleIcon,
  pending: ScheduleIcon,
  failed: HighlightOffIcon,
};

/** What each gate is called on the page. */
export const GATE_NAMES: Record<string, string> = {
  requires: 'Upstream',
  approvals: 'Approvals',
  soak: 'Soak time',
  windows: 'Change window',
  freeze: 'Freeze',
  checks: 'Checks',
  immutableVersion: 'Immutable version',
  codeowners: 'Code owners',
  http: 'Readiness check',
};

/** Every gate with its state: passed, pending (what for, until when) or failed (why). */
export function GateList(props: { gates: GateEvaluation[] }) {
  const classes = useStyles();
  return (
    <List dense disablePadding aria-label="Gates">
      {props.gates.map(gate => {
        const Icon = ICONS[gate.state];
        return (
          <ListItem
            key={gate.gate}
            className={classes.item}
            aria-label={`${GATE_NAMES[gate.gate] ?? gate.gate}: ${gate.state}`}
          >
            <ListItemIcon className={classes.icon}>
              <Icon fontSize="small" className={classes[gate.state]} />
            </ListItemIcon>
            <ListItemText
              primary={GATE_NAMES[gate.gate] ?? gate.gate}
              secondary={
                <>
                  {gate.summary}
                  {gate.until && (
                    <span title={absoluteTime(gate.until)}>
                      {' '}
                      ({relativeTime(gate.until)})
                    </span>
                  )}
                </>
              }
            />
          </ListItem>
        );
      })}
    </List>
  );
}
