import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  getCompoundEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import {
  Content,
  ContentHeader,
  EmptyState,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  MissingAnnotationEmptyState,
  useEntity,
} from '@backstage/plugin-catalog-react';
import { useSignal } from '@backstage/plugin-signals-react';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import {
  ANNOTATION_ARGOCD_MANIFEST,
  ANNOTATION_PATH,
  ANNOTATION_REPOSITORY,
  ENV_PLACEHOLDER,
  EntityPromotions,
  PromotionsSignal,
  promotionsSignalChannel,
  readEntityLayout,
} from '@gitops-promotions/plugin-promotions-common';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { promotionsApiRef } from '../api';
import { DeliveryCard } from './DeliveryCard';
import { EnvironmentPipeline } from './EnvironmentPipeline';
import { EnvironmentWorkflow } from './workflow/EnvironmentWorkflow';
import { HistoryTable } from './workflow/HistoryTable';
import { absoluteTime, relativeTime } from './time';

/** How often the tab asks again while the repository has not been read yet. */
export const PENDING_POLL_MS = 5000;
/** How often open promotions are read again while the tab is open. */
export const WORKFLOW_POLL_MS = 15000;
/** After an action, the tab looks again this much later: a merge shows once the repository was read. */
const AFTER_ACTION_MS = 2500;

const useStyles = makeStyles(theme => ({
  banner: { marginBottom: theme.spacing(2) },
  reading: { padding: theme.spacing(4, 2), textAlign: 'center' },
  readingProgress: { maxWidth: 360, margin: theme.spacing(2, 'auto') },
}));

/** Whether the backend has not read the entity's repository yet. */
const notReadYet = (promotions: EntityPromotions) =>
  promotions.asOf === null && promotions.environments.length === 0;

/** "Read from example-gitops at fedcba9, 3 hours ago · pipeline regional" */
function DataAge({ promotions }: { promotions: EntityPromotions }) {
  const { repository, asOf, pipeline } = promotions;
  const revision = repository.revision?.slice(0, 7);
  return (
    <Typography variant="body2" color="textSecondary" aria-label="Data age">
      Read from {repository.id}
      {revision && (
        <>
          {' at '}
          <span
            title={repository.revision ?? undefined}
            style={{ fontFamily: 'monospace' }}
          >
            {revision}
          </span>
        </>
      )}
      {asOf && (
        <>
          {', '}
          <span title={absoluteTime(asOf)}>{relativeTime(asOf)}</span>
        </>
      )}
      {` · pipeline ${pipeline}`}
    </Typography>
  );
}

/** The last refresh failed: what is shown is the last known state, of the age it says. */
function StaleStateBanner({ promotions }: { promotions: EntityPromotions }) {
  const classes = useStyles();
  const { error, asOf } = promotions;
  if (!error) return null;
  return (
    <Alert severity="warning" className={classes.banner}>
      <AlertTitle>
        {asOf ? (
          <>
            Showing the last known state, read{' '}
            <span title={absoluteTime(asOf)}>{relativeTime(asOf)}</span>
          </>
        ) : (
          'The GitOps repository could not be read yet'
        )}
      </AlertTitle>
      The refresh{' '}
      <span title={absoluteTime(error.at)}>{relativeTime(error.at)}</span>{' '}
      failed: {error.message}
    </Alert>
  );
}

function ReadingRepository({ promotions }: { promotions: EntityPromotions }) {
  const classes = useStyles();
  return (
    <Content>
      <StaleStateBanner promotions={promotions} />
      <div className={classes.reading}>
        <Typography variant="h6" role="status">
          Reading the GitOps repository {promotions.repository.id}…
        </Typography>
        <div className={classes.readingProgress}>
          <Progress />
        </div>
        <Typography variant="body2" color="textSecondary">
          The environments of this entity appear here as soon as the repository
          has been read.
        </Typography>
      </div>
    </Content>
  );
}

function UnusablePathAnnotation(props: { problem: string; service: string }) {
  const pathPrefix = `${ANNOTATION_PATH}: `;
  if (!props.problem.startsWith(pathPrefix)) {
    return (
      <EmptyState
        missing="field"
        title="The Promotions annotations cannot be used"
        description={`${props.problem}.`}
      />
    );
  }
  const text = props.problem.slice(pathPrefix.length);
  const problem = text[0].toUpperCase() + text.slice(1);
  const example = `${props.service}/overlays/${ENV_PLACEHOLDER}`;
  return (
    <EmptyState
      missing="field"
      title={`The ${ANNOTATION_PATH} annotation cannot be used`}
      description={`${problem}. Use a path relative to the repository root, with ${ENV_PLACEHOLDER} where the environment's name goes, such as ${example}.`}
    />
  );
}

/** A service the template published, whose layout is not merged yet. */
function WaitingForMerge({ promotions }: { promotions: EntityPromotions }) {
  const { branch, pullRequestUrl: url } = promotions.waitingForMerge!;
  // Only a web address becomes a link, whatever the backend was given.
  const pullRequestUrl = url && /^https?:\/\//i.test(url) ? url : null;
  return (
    <Content>
      <EmptyState
        missing="data"
        title="Waiting for the layout to be merged"
        description={`This service's environments were published to the branch ${branch} of ${promotions.repository.id}. They appear here once that branch is merged into the branch the repository is read from.`}
        action={
          pullRequestUrl ? (
            <Button variant="contained" color="primary" href={pullRequestUrl}>
              Open the pull request
            </Button>
          ) : (
            <Typography variant="body2">
              Branch: <code>{branch}</code>
            </Typography>
          )
        }
      />
    </Content>
  );
}

/** The annotations an entity needs before its promotions can be read. */
const REQUIRED_ANNOTATIONS = [ANNOTATION_REPOSITORY, ANNOTATION_PATH];

/** The Promotions tab of an entity: its environment pipeline, versions and drift. */
export function EntityPromotionsContent() {
  const { entity } = useEntity();
  const api = useApi(promotionsApiRef);
  const annotations = entity.metadata.annotations ?? {};
  const missing = REQUIRED_ANNOTATIONS.filter(
    name =>
      !annotations[name]?.trim() &&
      // An Argo CD manifest gives the paths instead.
      !(
        name === ANNOTATION_PATH &&
        annotations[ANNOTATION_ARGOCD_MANIFEST]?.trim()
      ),
  );
  const layout =
    missing.length === 0 ? readEntityLayout(annotations) : undefined;
  const pathProblem =
    layout && 'problem' in layout ? layout.problem : undefined;
  const available = missing.length === 0 && !pathProblem;
  const state = useAsyncRetry(
    async () =>
      available
        ? api.getEntityPromotions(getCompoundEntityRef(entity))
        : undefined,
    [api, entity, available],
  );
  const pending = state.value !== undefined && notReadYet(state.value);
  const { retry, value } = state;
  // The backend signals when the entity's state or one of its promotions changed: read it again.
  const { lastSignal } = useSignal<PromotionsSignal>(
    promotionsSignalChannel(stringifyEntityRef(entity)),
  );
  const retryRef = useRef(retry);
  retryRef.current = retry;
  useEffect(() => {
    if (lastSignal) retryRef.current();
  }, [lastSignal]);
  // retry changes whenever a request ends, so each answer that is still pending sets a new timer.
  useEffect(() => {
    if (!pending) return undefined;
    const timer = setTimeout(retry, PENDING_POLL_MS);
    return () => clearTimeout(timer);
  }, [pending, retry]);

  if (missing.length > 0) {
    return <MissingAnnotationEmptyState annotation={missing} />;
  }
  if (pathProblem) {
    return (
      <UnusablePathAnnotation
        problem={pathProblem}
        service={entity.metadata.name}
      />
    );
  }
  if (state.error) return <ResponseErrorPanel error={state.error} />;
  if (!value) return <Progress />;
  if (value.waitingForMerge) {
    return <WaitingForMerge promotions={value} />;
  }
  if (pending) return <ReadingRepository promotions={value} />;
  return (
    <Content>
      <ContentHeader title="Promotions">
        <DataAge promotions={value} />
      </ContentHeader>
      <StaleStateBanner promotions={value} />
      <PipelineWithWorkflow
        promotions={value}
        onChanged={retry}
        signalled={lastSignal}
      />
      <Box mt={3}>
        <DeliveryCard />
      </Box>
    </Content>
  );
}

/** The pipeline with each environment's open promotion, freezes and actions, and the history. */
function PipelineWithWorkflow(props: {
  promotions: EntityPromotions;
  onChanged: () => void;
  /** The backend's last signal for the entity: each one reads its promotions again. */
  signalled: PromotionsSignal | null;
}) {
  const { entity } = useEntity();
  const api = useApi(promotionsApiRef);
  const ref = useMemo(() => getCompoundEntityRef(entity), [entity]);
  const [version, setVersion] = useState(0);
  const workflow = useAsyncRetry(async () => {
    const [promotions, freezes] = await Promise.all([
      api.listPromotions(ref),
      api.freezes(stringifyEntityRef(entity)),
    ]);
    return { promotions, freezes };
  }, [api, ref, version]);
  const { onChanged, signalled } = props;
  useEffect(() => {
    if (signalled) setVersion(v => v + 1);
  }, [signalled]);
  const reload = useCallback(() => {
    setVersion(v => v + 1);
    onChanged();
  }, [onChanged]);
  // Open promotions move by themselves (reviews, checks, merges elsewhere), and a merge shows
  // once the repository was read again: look again now and then.
  useEffect(() => {
    const timer = setInterval(reload, WORKFLOW_POLL_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const [followUp, setFollowUp] = useState(0);
  useEffect(() => {
    if (followUp === 0) return undefined;
    const timer = setTimeout(reload, AFTER_ACTION_MS);
    return () => clearTimeout(timer);
  }, [followUp, reload]);
  const changed = () => {
    reload();
    setFollowUp(n => n + 1);
  };
  const { environments } = props.promotions;
  return (
    <>
      {workflow.error && (
        <Alert severity="error">
          The promotions of this entity could not be read:{' '}
          {workflow.error.message}
        </Alert>
      )}
      <EnvironmentPipeline
        environments={environments}
        renderActions={env => (
          <EnvironmentWorkflow
            entity={ref}
            environment={env}
            environments={environments}
            promotion={workflow.value?.promotions.find(
              p =>
                p.environment === env.name &&
                ['opening', 'open', 'merging'].includes(p.state),
            )}
            freezes={workflow.value?.freezes ?? []}
            onChanged={changed}
          />
        )}
      />
      <HistoryTable
        entity={ref}
        environments={environments.map(e => e.name)}
        version={version}
      />
    </>
  );
}
