import { ReactNode, useState } from 'react';
import { getCompoundEntityRef } from '@backstage/catalog-model';
import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { makeStyles, useTheme } from '@material-ui/core/styles';
import ToggleButton from '@material-ui/lab/ToggleButton';
import ToggleButtonGroup from '@material-ui/lab/ToggleButtonGroup';
import {
  DEFAULT_DELIVERY_FIGURE_WINDOW,
  DELIVERY_FIGURE_WINDOWS,
  DeliveryFigures,
  DeliveryFigureWindow,
  LeadTimeFigures,
  OwnerDeliveryFigures,
} from '@gitops-promotions/plugin-promotions-common';
import useAsync from 'react-use/esm/useAsync';
import { Bar, BarChart, Tooltip, XAxis, YAxis } from 'recharts';
import { promotionsApiRef } from '../api';

const CHART = { width: 260, height: 90 };
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

const useStyles = makeStyles(theme => ({
  figure: { minHeight: 170 },
  headline: { fontSize: '1.5rem', fontWeight: 500 },
  detail: { color: theme.palette.text.secondary },
}));

/** A duration as people say it: minutes, hours under two days, days beyond. */
export function formatDuration(ms: number): string {
  const round = (n: number) => String(Math.round(n * 10) / 10);
  if (ms < HOUR_MS) return `${Math.max(0, Math.round(ms / 60000))} min`;
  if (ms < 2 * DAY_MS) return `${round(ms / HOUR_MS)} h`;
  return `${round(ms / DAY_MS)} days`;
}

const percent = (rate: number) => `${Math.round(rate * 100)}%`;
const toDays = (ms: number) => Math.round((ms / DAY_MS) * 10) / 10;

/** Whether anything at all happened in the window. */
function isEmpty(figures: DeliveryFigures | OwnerDeliveryFigures): boolean {
  if ('owner' in figures) {
    return (
      figures.deployments.count === 0 &&
      figures.changeFailure.promotions === 0 &&
      figures.leadTime.versions === 0
    );
  }
  return (
    figures.environments.every(
      e => e.deployments.count === 0 && e.changeFailure.promotions === 0,
    ) && figures.leadTime.every(l => l.versions.length === 0 && l.direct === 0)
  );
}

function Figure(props: {
  title: string;
  headline: ReactNode;
  detail?: ReactNode;
  chart?: ReactNode;
}) {
  const classes = useStyles();
  return (
    <Grid item xs={12} sm={6} lg={3}>
      <section aria-label={props.title} className={classes.figure}>
        <Typography variant="subtitle2">{props.title}</Typography>
        <Typography className={classes.headline}>{props.headline}</Typography>
        {props.detail && (
          <Typography variant="body2" className={classes.detail}>
            {props.detail}
          </Typography>
        )}
        {props.chart}
      </section>
    </Grid>
  );
}

function leadHeadline(lead: LeadTimeFigures | undefined): string {
  if (!lead) return 'No production environment';
  if (lead.medianMs === null) return 'No version reached production';
  return `median ${formatDuration(lead.medianMs)}`;
}

function leadDetail(lead: LeadTimeFigures | undefined): string | undefined {
  if (!lead) return undefined;
  const direct = lead.direct ? `${lead.direct} straight to production` : '';
  const unknown = lead.unknownStart
    ? `${lead.unknownStart} started before the history read`
    : '';
  if (lead.p90Ms === null)
    return [direct, unknown].filter(Boolean).join(' · ') || undefined;
  return [
    `p90 ${formatDuration(lead.p90Ms)}`,
    `${lead.versions.length} versions to ${lead.environment}`,
    direct,
    unknown,
  ]
    .filter(Boolean)
    .join(' · ');
}

function ServiceFigureTiles({ figures }: { figures: DeliveryFigures }) {
  const theme = useTheme();
  const color = theme.palette.primary.main;
  const { environments, leadTime } = figures;
  const production = environments.filter(e => e.production);
  const shown = production.length > 0 ? production : environments;
  const perWeek = shown.reduce((sum, e) => sum + e.deployments.perWeek, 0);
  const weeks = (shown[0]?.deployments.weeks ?? []).map((week, i) => ({
    week: week.start.slice(5, 10),
    deployments: shown.reduce(
      (sum, e) => sum + (e.deployments.weeks[i]?.count ?? 0),
      0,
    ),
  }));

  const lead = leadTime.flatMap(l =>
    l.versions.map(v => ({
      version:
        l.environment === leadTime[0].environment
          ? v.version
          : `${v.version} (${l.environment})`,
      days: Math.round((v.ms / DAY_MS) * 10) / 10,
    })),
  );
  const firstLead = leadTime[0];

  const failures = environments.map(e => ({
    environment: e.environment,
    percent:
      e.changeFailure.rate === null
        ? 0
        : Math.round(e.changeFailure.rate * 100),
  }));
  const promotions = environments.reduce(
    (sum, e) => sum + e.changeFailure.promotions,
    0,
  );
  const failed = environments.reduce(
    (sum, e) => sum + e.changeFailure.rollbacks + e.changeFailure.failed,
    0,
  );

  const rollbacks = environments.flatMap(e =>
    e.restore.rollbacks.map(r => ({ ...r, environment: e.environment })),
  );
  const restored = rollbacks.filter(r => r.ms !== null);
  const restoreTimes = restored.map(r => r.ms!).sort((a, b) => a - b);
  const middle = Math.floor(restoreTimes.length / 2);
  let restoreMedian: number | null = null;
  if (restoreTimes.length % 2) restoreMedian = restoreTimes[middle];
  else if (restoreTimes.length > 0) {
    restoreMedian = (restoreTimes[middle - 1] + restoreTimes[middle]) / 2;
  }

  return (
    <Grid container spacing={2}>
      <Figure
        title="Deployment frequency"
        headline={`${Math.round(perWeek * 100) / 100} per week`}
        detail={`${shown
          .map(e => `${e.environment}: ${e.deployments.count}`)
          .join(', ')} in ${figures.window.days} days`}
        chart={
          <BarChart {...CHART} data={weeks}>
            <XAxis dataKey="week" tick={{ fontSize: 10 }} />
            <YAxis allowDecimals={false} width={24} tick={{ fontSize: 10 }} />
            <Tooltip />
            <Bar dataKey="deployments" name="Deployments" fill={color} />
          </BarChart>
        }
      />
      <Figure
        title="Lead time to production"
        headline={leadHeadline(firstLead)}
        detail={leadDetail(firstLead)}
        chart={
          lead.length > 0 && (
            <BarChart {...CHART} data={lead}>
              <XAxis dataKey="version" tick={{ fontSize: 10 }} />
              <YAxis width={24} tick={{ fontSize: 10 }} unit="d" />
              <Tooltip />
              <Bar dataKey="days" name="Days" fill={color} />
            </BarChart>
          )
        }
      />
      <Figure
        title="Change failure rate"
        headline={
          promotions === 0 ? 'No promotions' : percent(failed / promotions)
        }
        detail={
          promotions > 0
            ? `${failed} rollbacks or failures of ${promotions} promotions`
            : undefined
        }
        chart={
          promotions > 0 && (
            <BarChart {...CHART} data={failures}>
              <XAxis dataKey="environment" tick={{ fontSize: 10 }} />
              <YAxis width={30} tick={{ fontSize: 10 }} unit="%" />
              <Tooltip />
              <Bar dataKey="percent" name="Failure rate (%)" fill={color} />
            </BarChart>
          )
        }
      />
      <Figure
        title="Time to restore"
        headline={
          restoreMedian === null
            ? 'No rollback merged'
            : `median ${formatDuration(restoreMedian)}`
        }
        detail={
          rollbacks.length > 0
            ? `${restored.length} of ${rollbacks.length} rollbacks merged`
            : 'No rollbacks'
        }
        chart={
          restored.length > 0 && (
            <BarChart
              {...CHART}
              data={restored.map(r => ({
                rollback: `${r.environment} ${r.version ?? ''}`.trim(),
                hours: Math.round((r.ms! / HOUR_MS) * 10) / 10,
              }))}
            >
              <XAxis dataKey="rollback" tick={{ fontSize: 10 }} />
              <YAxis width={24} tick={{ fontSize: 10 }} unit="h" />
              <Tooltip />
              <Bar dataKey="hours" name="Hours" fill={color} />
            </BarChart>
          )
        }
      />
    </Grid>
  );
}

/** An owner's figures, pooled over their services, each with a small chart of its parts. */
function OwnerFigureTiles({
  figures,
  days,
}: {
  figures: OwnerDeliveryFigures;
  days: number;
}) {
  const theme = useTheme();
  const color = theme.palette.primary.main;
  const { deployments, productionDeployments, leadTime, changeFailure } =
    figures;
  const { restore } = figures;
  const toProduction = productionDeployments.count > 0;
  const services = `${figures.services} ${
    figures.services === 1 ? 'service' : 'services'
  }`;
  const failed = changeFailure.rollbacks + changeFailure.failed;
  const rollbacks = restore.restored + restore.unrestored;
  return (
    <Grid container spacing={2}>
      <Figure
        title="Deployment frequency"
        headline={`${
          toProduction ? productionDeployments.perWeek : deployments.perWeek
        } per week${toProduction ? ' to production' : ''}`}
        detail={`${productionDeployments.count} to production, ${deployments.count} in every environment, of ${services} in ${days} days`}
        chart={
          deployments.count > 0 && (
            <BarChart
              {...CHART}
              data={[
                {
                  where: 'production',
                  deployments: productionDeployments.count,
                },
                {
                  where: 'before production',
                  deployments: deployments.count - productionDeployments.count,
                },
              ]}
            >
              <XAxis dataKey="where" tick={{ fontSize: 10 }} />
              <YAxis allowDecimals={false} width={24} tick={{ fontSize: 10 }} />
              <Tooltip />
              <Bar dataKey="deployments" name="Deployments" fill={color} />
            </BarChart>
          )
        }
      />
      <Figure
        title="Lead time to production"
        headline={
          leadTime.medianMs === null
            ? 'No version reached production'
            : `median ${formatDuration(leadTime.medianMs)}`
        }
        detail={
          leadTime.p90Ms === null
            ? undefined
            : `p90 ${formatDuration(leadTime.p90Ms)} · ${
                leadTime.versions
              } versions to production`
        }
        chart={
          leadTime.medianMs !== null &&
          leadTime.p90Ms !== null && (
            <BarChart
              {...CHART}
              data={[
                { of: 'median', days: toDays(leadTime.medianMs) },
                { of: 'p90', days: toDays(leadTime.p90Ms) },
              ]}
            >
              <XAxis dataKey="of" tick={{ fontSize: 10 }} />
              <YAxis width={24} tick={{ fontSize: 10 }} unit="d" />
              <Tooltip />
              <Bar dataKey="days" name="Days" fill={color} />
            </BarChart>
          )
        }
      />
      <Figure
        title="Change failure rate"
        headline={
          changeFailure.rate === null
            ? 'No promotions'
            : percent(changeFailure.rate)
        }
        detail={
          changeFailure.promotions > 0
            ? `${failed} rollbacks or failures of ${changeFailure.promotions} promotions`
            : undefined
        }
        chart={
          changeFailure.promotions > 0 && (
            <BarChart
              {...CHART}
              data={[
                {
                  outcome: 'other',
                  promotions: changeFailure.promotions - failed,
                },
                { outcome: 'rolled back', promotions: changeFailure.rollbacks },
                { outcome: 'failed', promotions: changeFailure.failed },
              ]}
            >
              <XAxis dataKey="outcome" tick={{ fontSize: 10 }} />
              <YAxis allowDecimals={false} width={24} tick={{ fontSize: 10 }} />
              <Tooltip />
              <Bar dataKey="promotions" name="Promotions" fill={color} />
            </BarChart>
          )
        }
      />
      <Figure
        title="Time to restore"
        headline={
          restore.medianMs === null
            ? 'No rollback merged'
            : `median ${formatDuration(restore.medianMs)}`
        }
        detail={
          rollbacks > 0
            ? `${restore.restored} of ${rollbacks} rollbacks merged`
            : 'No rollbacks'
        }
        chart={
          rollbacks > 0 && (
            <BarChart
              {...CHART}
              data={[
                { rollbacks: 'merged', count: restore.restored },
                { rollbacks: 'not merged', count: restore.unrestored },
              ]}
            >
              <XAxis dataKey="rollbacks" tick={{ fontSize: 10 }} />
              <YAxis allowDecimals={false} width={24} tick={{ fontSize: 10 }} />
              <Tooltip />
              <Bar dataKey="count" name="Rollbacks" fill={color} />
            </BarChart>
          )
        }
      />
    </Grid>
  );
}

/**
 * Delivery figures over a window: a service's, or an owner's pooled over their services. Each
 * figure shows its headline, what it is made of, and a small chart.
 */
export function DeliveryFiguresView(props: {
  figures: DeliveryFigures | OwnerDeliveryFigures;
  days: number;
}) {
  const { figures, days } = props;
  if ('owner' in figures && figures.services === 0) {
    return (
      <Typography color="textSecondary">
        This owner has no service whose promotions you may read.
      </Typography>
    );
  }
  if (isEmpty(figures)) {
    return (
      <Typography color="textSecondary">
        Nothing was deployed or promoted in the last {days} days.
      </Typography>
    );
  }
  return 'owner' in figures ? (
    <OwnerFigureTiles figures={figures} days={days} />
  ) : (
    <ServiceFigureTiles figures={figures} />
  );
}

/** Which window the figures are computed over. */
export function DeliveryWindowSelector(props: {
  days: DeliveryFigureWindow;
  onChange: (days: DeliveryFigureWindow) => void;
}) {
  return (
    <ToggleButtonGroup
      size="small"
      exclusive
      value={props.days}
      aria-label="Window"
      onChange={(_event, value: DeliveryFigureWindow | null) => {
        if (value) props.onChange(value);
      }}
    >
      {DELIVERY_FIGURE_WINDOWS.map(window => (
        <ToggleButton key={window} value={window}>
          {window} days
        </ToggleButton>
      ))}
    </ToggleButtonGroup>
  );
}

/**
 * The service's delivery figures over a chosen window: deployment frequency, lead time to
 * production, change failure rate and time to restore, each with a small chart.
 */
export function DeliveryCard() {
  const { entity } = useEntity();
  const api = useApi(promotionsApiRef);
  const [days, setDays] = useState<DeliveryFigureWindow>(
    DEFAULT_DELIVERY_FIGURE_WINDOW,
  );
  const ref = getCompoundEntityRef(entity);
  const state = useAsync(
    // Async, so that an API without figures fails in this card and not in the whole tab.
    async () => api.figures(ref, days),
    [api, ref.kind, ref.namespace, ref.name, days],
  );
  let content: ReactNode;
  if (state.error) content = <ResponseErrorPanel error={state.error} />;
  else if (state.loading || !state.value) content = <Progress />;
  else content = <DeliveryFiguresView figures={state.value} days={days} />;
  return (
    <InfoCard
      title="Delivery"
      subheader={`Last ${days} days`}
      action={<DeliveryWindowSelector days={days} onChange={setDays} />}
    >
      {content}
    </InfoCard>
  );
}
