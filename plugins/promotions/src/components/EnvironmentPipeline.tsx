import {
  ReactNode,
  useCallback,
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { EmptyState } from '@backstage/core-components';
import { makeStyles } from '@material-ui/core/styles';
import { EnvironmentState } from '@gitops-promotions/plugin-promotions-common';
import { EnvironmentCard } from './EnvironmentCard';

/**
 * Columns of the pipeline graph, left to right: an environment stands one column after the
 * furthest environment it requires, so environments a pipeline fans out to share a column.
 *
 * @public
 */
export function pipelineColumns(
  environments: EnvironmentState[],
): EnvironmentState[][] {
  const byName = new Map(environments.map(env => [env.name, env]));
  const depth = new Map<string, number>();
  const depthOf = (env: EnvironmentState, visiting: Set<string>): number => {
    const known = depth.get(env.name);
    if (known !== undefined) return known;
    // A cycle has no promotion order; its environments stay where the walk found them.
    if (visiting.has(env.name)) return 0;
    visiting.add(env.name);
    const upstreams = env.requires
      .map(name => byName.get(name))
      .filter(
        (upstream): upstream is EnvironmentState => upstream !== undefined,
      );
    const value =
      upstreams.length === 0
        ? 0
        : 1 + Math.max(...upstreams.map(up => depthOf(up, visiting)));
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

/**
 * A promotion edge of the pipeline graph.
 *
 * @public
 */
export interface PipelineEdge {
  from: string;
  to: string;
}

/**
 * The edges from each environment's upstreams to it, leaving out upstreams not shown.
 *
 * @public
 */
export function pipelineEdges(
  environments: EnvironmentState[],
): PipelineEdge[] {
  const names = new Set(environments.map(env => env.name));
  return environments.flatMap(env =>
    env.requires
      .filter(upstream => names.has(upstream) && upstream !== env.name)
      .map(upstream => ({ from: upstream, to: env.name })),
  );
}

/** Where connectors meet a card: level with the environment's name. */
const CONNECTOR_Y = 34;
const COLUMN_GAP = 64;

interface Connector {
  key: string;
  path: string;
}

interface ConnectorLayout {
  width: number;
  height: number;
  connectors: Connector[];
}

/** Measures the cards once laid out and whenever they resize, and routes a curve along each edge. */
function useConnectors(edges: PipelineEdge[]) {
  const containerRef = useRef<HTMLDivElement>(null);
  const cards = useRef(new Map<string, HTMLElement>());
  const [layout, setLayout] = useState<ConnectorLayout>();

  const cardRef = useCallback(
    (name: string) => (element: HTMLElement | null) => {
      if (element) cards.current.set(name, element);
      else cards.current.delete(name);
    },
    [],
  );

  useLayoutEffect(() => {
    const container = containerRef.current;
    if (!container) return undefined;
    const measure = () => {
      const box = container.getBoundingClientRect();
      const connectors = edges.flatMap(({ from, to }) => {
        const a = cards.current.get(from)?.getBoundingClientRect();
        const b = cards.current.get(to)?.getBoundingClientRect();
        if (!a || !b || a.width === 0 || b.left <= a.right) return [];
        const x1 = a.right - box.left + container.scrollLeft;
        const y1 = a.top - box.top + container.scrollTop + CONNECTOR_Y;
        const x2 = b.left - box.left + container.scrollLeft;
        const y2 = b.top - box.top + container.scrollTop + CONNECTOR_Y;
        const bend = Math.min((x2 - x1) / 2, COLUMN_GAP / 2);
        return [
          {
            key: `${from}->${to}`,
            path: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${
              x2 - 2
            } ${y2}`,
          },
        ];
      });
      const next = {
        width: container.scrollWidth,
        height: container.scrollHeight,
        connectors,
      };
      setLayout(previous =>
        JSON.stringify(previous) === JSON.stringify(next) ? previous : next,
      );
    };
    measure();
    if (typeof ResizeObserver === 'undefined') return undefined;
    const observer = new ResizeObserver(measure);
    observer.observe(container);
    cards.current.forEach(card => observer.observe(card));
    return () => observer.disconnect();
  }, [edges]);

  return { containerRef, cardRef, layout };
}

const useStyles = makeStyles(theme => ({
  pipeline: {
    position: 'relative',
    display: 'flex',
    alignItems: 'flex-start',
    gap: COLUMN_GAP,
    overflowX: 'auto',
    paddingBottom: theme.spacing(2),
  },
  column: {
    position: 'relative',
    zIndex: 1,
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(2),
    margin: 0,
    padding: 0,
    listStyle: 'none',
  },
  connectors: {
    position: 'absolute',
    top: 0,
    left: 0,
    pointerEvents: 'none',
    color: theme.palette.text.secondary,
  },
}));

/**
 * The environments as a graph drawn left to right in promotion order, one column per stage.
 *
 * @public
 */
export function EnvironmentPipeline({
  environments,
  renderActions,
}: {
  environments: EnvironmentState[];
  /** What the user may do to an environment, shown in its card. */
  renderActions?: (environment: EnvironmentState) => ReactNode;
}) {
  const classes = useStyles();
  const columns = useMemo(() => pipelineColumns(environments), [environments]);
  const edges = useMemo(() => pipelineEdges(environments), [environments]);
  const { containerRef, cardRef, layout } = useConnectors(edges);
  const arrowId = `promotion-arrow-${useId().replace(/:/g, '')}`;

  if (environments.length === 0) {
    return (
      <EmptyState
        missing="data"
        title="No environments"
        description="The pipeline of this entity has no environments to show."
      />
    );
  }
  return (
    <div
      ref={containerRef}
      className={classes.pipeline}
      role="group"
      aria-label="Environment pipeline"
    >
      {layout && layout.connectors.length > 0 && (
        <svg
          className={classes.connectors}
          width={layout.width}
          height={layout.height}
          aria-hidden
        >
          <defs>
            <marker
              id={arrowId}
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto"
            >
              <path d="M 0 0 L 10 5 L 0 10 z" fill="currentColor" />
            </marker>
          </defs>
          {layout.connectors.map(connector => (
            <path
              key={connector.key}
              d={connector.path}
              fill="none"
              stroke="currentColor"
              strokeWidth={1.5}
              markerEnd={`url(#${arrowId})`}
            />
          ))}
        </svg>
      )}
      {columns.map((column, index) => (
        <ol
          key={column.map(env => env.name).join()}
          className={classes.column}
          aria-label={`Stage ${index + 1}`}
        >
          {column.map(env => (
            <li key={env.name} ref={cardRef(env.name)}>
              <EnvironmentCard environment={env}>
                {renderActions?.(env)}
              </EnvironmentCard>
            </li>
          ))}
        </ol>
      ))}
    </div>
  );
}
