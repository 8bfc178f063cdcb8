import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import ArrowForwardIcon from '@material-ui/icons/ArrowForward';
import { EnvironmentState } from '@gitops-promotions/plugin-promotions-common';
import { EnvironmentCard } from './EnvironmentCard';

/**
 * Columns of the pipeline graph, left to right: an environment stands one column after the
 * furthest environment it requires, so fan-outs share a column.
 */
export function pipelineColumns(environments: EnvironmentState[]): EnvironmentState[][] {
  const byName = new Map(environments.map(env => [env.name, env]));
  const depth = new Map<string, number>();
  const depthOf = (env: EnvironmentState, seen: Set<string>): number => {
    const known = depth.get(env.name);
    if (known !== undefined) return known;
    if (seen.has(env.name)) return 0;
    seen.add(env.name);
    const upstreams = env.requires.map(name => byName.get(name)).filter((e): e is EnvironmentState => !!e);
    const value = upstreams.length === 0 ? 0 : 1 + Math.max(...upstreams.map(up => depthOf(up, seen)));
    depth.set(env.name, value);
    return value;
  };
  const columns: EnvironmentState[][] = [];
  for (const env of environments) {
    const column = depthOf(env, new Set());
    (columns[column] ??= []).push(env);
  }
  return columns.filter(Boolean);
}

const useStyles = makeStyles(theme => ({
  pipeline: { display: 'flex', alignItems: 'flex-start', overflowX: 'auto', paddingBottom: theme.spacing(2) },
  column: { display: 'flex', flexDirection: 'column' },
  arrow: { alignSelf: 'center', margin: theme.spacing(0, 1), color: theme.palette.text.secondary },
}));

/** The environments as a graph drawn left to right, in promotion order. */
export function EnvironmentPipeline({ environments }: { environments: EnvironmentState[] }) {
  const classes = useStyles();
  const columns = pipelineColumns(environments);
  if (environments.length === 0) return <Typography>No environments.</Typography>;
  return (
    <div className={classes.pipeline} aria-label="Environment pipeline">
      {columns.map((column, index) => (
        <div key={column.map(env => env.name).join()} style={{ display: 'flex' }}>
          {index > 0 && <ArrowForwardIcon className={classes.arrow} aria-hidden />}
          <div className={classes.column} role="list" aria-label={`Stage ${index + 1}`}>
            {column.map(env => (
              <div role="listitem" key={env.name}>
                <EnvironmentCard environment={env} />
              </div>
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}
