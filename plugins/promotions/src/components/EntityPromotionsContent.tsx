import { useEffect } from 'react';
import { getCompoundEntityRef } from '@backstage/catalog-model';
import {
  Content,
  ContentHeader,
  Progress,
  ResponseErrorPanel,
  WarningPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { MissingAnnotationEmptyState, useEntity } from '@backstage/plugin-catalog-react';
import Typography from '@material-ui/core/Typography';
import { ANNOTATION_REPOSITORY, EntityPromotions } from '@gitops-promotions/plugin-promotions-common';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { promotionsApiRef } from '../api';
import { EnvironmentPipeline } from './EnvironmentPipeline';
import { absoluteTime, relativeTime } from './time';

/** How often the tab asks again while the repository has not been read yet. */
export const PENDING_POLL_MS = 5000;

function DataAge({ promotions }: { promotions: EntityPromotions }) {
  const revision = promotions.repository.revision?.slice(0, 7);
  return (
    <Typography variant="body2" color="textSecondary" aria-label="Data age">
      Read from {promotions.repository.id}
      {revision ? ` at ${revision}` : ''},{' '}
      {promotions.asOf && <span title={absoluteTime(promotions.asOf)}>{relativeTime(promotions.asOf)}</span>} ·
      pipeline {promotions.pipeline}
    </Typography>
  );
}

/** The Promotions tab of an entity. */
export function EntityPromotionsContent() {
  const { entity } = useEntity();
  const api = useApi(promotionsApiRef);
  const annotated = Boolean(entity.metadata.annotations?.[ANNOTATION_REPOSITORY]);
  const state = useAsyncRetry(
    async () => (annotated ? api.getEntityPromotions(getCompoundEntityRef(entity)) : undefined),
    [api, entity, annotated],
  );
  const pending = state.value !== undefined && state.value.asOf === null;
  const { retry } = state;
  useEffect(() => {
    if (!pending) return undefined;
    const timer = setTimeout(retry, PENDING_POLL_MS);
    return () => clearTimeout(timer);
  }, [pending, retry, state.value]);

  if (!annotated) return <MissingAnnotationEmptyState annotation={ANNOTATION_REPOSITORY} />;
  if (state.error) return <ResponseErrorPanel error={state.error} />;
  if (!state.value) return <Progress />;
  const promotions = state.value;
  if (pending) {
    return (
      <Content>
        <Typography role="status">Reading the GitOps repository {promotions.repository.id}…</Typography>
        <Progress />
      </Content>
    );
  }
  return (
    <Content>
      <ContentHeader title="Promotions">
        <DataAge promotions={promotions} />
      </ContentHeader>
      {promotions.error && (
        <WarningPanel
          severity="warning"
          title={`Showing the state read ${promotions.asOf ? relativeTime(promotions.asOf) : 'earlier'}: the last refresh failed`}
          message={promotions.error.message}
        />
      )}
      <EnvironmentPipeline environments={promotions.environments} />
    </Content>
  );
}
