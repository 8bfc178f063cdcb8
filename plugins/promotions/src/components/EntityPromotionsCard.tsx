import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi, useRouteRef } from '@backstage/core-plugin-api';
import {
  entityRouteParams,
  entityRouteRef,
  MissingAnnotationEmptyState,
  useEntity,
} from '@backstage/plugin-catalog-react';
import { getCompoundEntityRef } from '@backstage/catalog-model';
import Chip from '@material-ui/core/Chip';
import Typography from '@material-ui/core/Typography';
import { makeStyles, useTheme } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import {
  ANNOTATION_REPOSITORY,
  DriftKind,
  EntityPromotions,
  EnvironmentState,
} from '@gitops-promotions/plugin-promotions-common';
import useAsync from 'react-use/esm/useAsync';
import { promotionsApiRef } from '../api';
import { isPromotionsAvailable } from '../conditions';
import { DriftChip } from './DriftChip';
import { healthColor } from './LiveStatePanel';
import { absoluteTime, relativeTime } from './time';

const useStyles = makeStyles(theme => ({
  rows: { margin: 0, padding: 0, listStyle: 'none' },
  row: {
    display: 'grid',
    gridTemplateColumns: 'minmax(6rem, 1fr) minmax(5rem, 1fr) 2fr auto',
    alignItems: 'center',
    gap: theme.spacing(1),
    padding: theme.spacing(0.75, 0),
    borderBottom: `1px solid ${theme.palette.divider}`,
  },
  name: { fontWeight: 600, overflowWrap: 'anywhere' },
  version: { fontFamily: 'monospace', overflowWrap: 'anywhere' },
  stale: { marginBottom: theme.spacing(1), padding: theme.spacing(0, 1) },
  age: { marginTop: theme.spacing(1) },
}));

/** Health from worst to best: the environment shows the worst of its applications. */
const HEALTH_ORDER = [
  'Degraded',
  'Missing',
  'Progressing',
  'Suspended',
  'Unknown',
  'Healthy',
] as const;

function Health(props: { environment: EnvironmentState }) {
  const theme = useTheme();
  const worst = (props.environment.live?.applications ?? [])
    .map(a => a.healthStatus)
    .sort((a, b) => HEALTH_ORDER.indexOf(a) - HEALTH_ORDER.indexOf(b))[0];
  if (!worst) return null;
  const color = healthColor(theme, worst);
  return (
    <Chip
      size="small"
      style={{
        backgroundColor: color,
        color: theme.palette.getContrastText(color),
        height: 18,
        fontSize: '0.7rem',
      }}
      label={worst}
      aria-label={`Health ${worst}`}
    />
  );
}

function EnvironmentRow(props: { environment: EnvironmentState }) {
  const { environment } = props;
  const classes = useStyles();
  const kinds = new Map<DriftKind, string>();
  for (const drift of environment.drift) {
    if (!kinds.has(drift.kind)) kinds.set(drift.kind, drift.summary);
  }
  return (
    <li className={classes.row} aria-label={`Environment ${environment.name}`}>
      <Typography variant="body2" className={classes.name}>
        {environment.name}
      </Typography>
      <Typography variant="body2" className={classes.version}>
        {environment.error
          ? 'not resolved'
          : environment.desired.version ?? 'unknown'}
      </Typography>
      <div>
        {[...kinds].map(([kind, summary]) => (
          <DriftChip key={kind} kind={kind} title={summary} />
        ))}
      </div>
      <Health environment={environment} />
    </li>
  );
}

/** "Read 3 hours ago", the exact time on hover. */
function DataAge({ asOf }: { asOf: string | null }) {
  const classes = useStyles();
  if (!asOf) return null;
  return (
    <Typography
      variant="caption"
      color="textSecondary"
      component="p"
      className={classes.age}
      aria-label="Data age"
    >
      Read <span title={absoluteTime(asOf)}>{relativeTime(asOf)}</span>
    </Typography>
  );
}

/** The last refresh failed: the rows are the last known state, as the tab's banner says. */
function StaleState({ promotions }: { promotions: EntityPromotions }) {
  const classes = useStyles();
  const { error, asOf } = promotions;
  if (!error) return null;
  return (
    <Alert severity="warning" className={classes.stale} title={error.message}>
      {asOf ? (
        <>
          Showing the last known state, read{' '}
          <span title={absoluteTime(asOf)}>{relativeTime(asOf)}</span>
        </>
      ) : (
        'The GitOps repository could not be read yet'
      )}
      : the refresh{' '}
      <span title={absoluteTime(error.at)}>{relativeTime(error.at)}</span>{' '}
      failed.
    </Alert>
  );
}

/**
 * The entity's environments on its Overview, one compact row each: version, drift and live
 * health, linking to the Promotions tab.
 */
export function EntityPromotionsCard() {
  const { entity } = useEntity();
  const api = useApi(promotionsApiRef);
  const entityRoute = useRouteRef(entityRouteRef);
  const classes = useStyles();
  const annotated = isPromotionsAvailable(entity);
  const compound = getCompoundEntityRef(entity);
  const state = useAsync(
    async () => (annotated ? api.getEntityPromotions(compound) : undefined),
    [api, annotated, compound.kind, compound.namespace, compound.name],
  );
  if (!annotated) {
    return <MissingAnnotationEmptyState annotation={ANNOTATION_REPOSITORY} />;
  }
  const tab = `${entityRoute(entityRouteParams(entity))}/promotions`;
  return (
    <InfoCard
      title="Promotions"
      deepLink={{ title: 'Open the Promotions tab', link: tab }}
    >
      {state.loading && <Progress />}
      {state.error && <ResponseErrorPanel error={state.error} />}
      {state.value && <StaleState promotions={state.value} />}
      {state.value && state.value.environments.length === 0 && (
        <Typography variant="body2">
          No environments found in the repository yet.
        </Typography>
      )}
      {state.value && state.value.environments.length > 0 && (
        <ul className={classes.rows} aria-label="Environments">
          {state.value.environments.map(environment => (
            <EnvironmentRow key={environment.name} environment={environment} />
          ))}
        </ul>
      )}
      {state.value && !state.value.error && <DataAge asOf={state.value.asOf} />}
    </InfoCard>
  );
}
