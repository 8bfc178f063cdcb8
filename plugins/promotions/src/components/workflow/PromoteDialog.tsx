import { useEffect, useId, useMemo, useState } from 'react';
import { CompoundEntityRef } from '@backstage/catalog-model';
import { Link, Progress } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import Button from '@material-ui/core/Button';
import Checkbox from '@material-ui/core/Checkbox';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Radio from '@material-ui/core/Radio';
import RadioGroup from '@material-ui/core/RadioGroup';
import Tab from '@material-ui/core/Tab';
import Tabs from '@material-ui/core/Tabs';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import {
  EnvironmentState,
  OpenPromotionConflict,
  openPromotionOf,
  Promotion,
  PromotionPreview,
} from '@gitops-promotions/plugin-promotions-common';
import useAsync from 'react-use/esm/useAsync';
import useDebounce from 'react-use/esm/useDebounce';
import { promotionsApiRef } from '../../api';
import { relativeTime } from '../time';
import { DiffView } from './DiffView';
import { GateList } from './GateList';

const useStyles = makeStyles(theme => ({
  fields: {
    display: 'flex',
    gap: theme.spacing(2),
    flexWrap: 'wrap',
    alignItems: 'center',
    marginBottom: theme.spacing(2),
  },
  field: { minWidth: 200 },
  tabs: { marginBottom: theme.spacing(1) },
  commit: { fontFamily: 'monospace', marginRight: theme.spacing(1) },
  unknown: { marginBottom: theme.spacing(1) },
}));

/** The message of a failed request, as the backend gave it. */
export const messageOf = (error: unknown) =>
  error instanceof ResponseError
    ? error.body.error.message
    : (error as Error)?.message ?? String(error);

function PreviewTabs({ preview }: { preview: PromotionPreview }) {
  const classes = useStyles();
  const [tab, setTab] = useState(0);
  return (
    <>
      <Tabs
        value={tab}
        onChange={(_, value) => setTab(value)}
        className={classes.tabs}
        indicatorColor="primary"
      >
        <Tab label="Files" />
        <Tab label="Rendered manifests" />
        <Tab label={`Commits (${preview.commits.length})`} />
        <Tab label={`Config (${preview.configDifferences.length})`} />
        <Tab label="Gates" />
      </Tabs>
      {tab === 0 && (
        <DiffView diff={preview.fileDiff} label="File diff to be committed" />
      )}
      {tab === 1 && (
        <DiffView
          diff={preview.renderedDiff}
          label="Rendered manifests, before and after"
        />
      )}
      {tab === 2 &&
        (preview.commits.length === 0 ? (
          <Typography variant="body2" color="textSecondary">
            No commits to the upstream’s inputs since the current version.
          </Typography>
        ) : (
          <div aria-label="Commits since the current version">
            {preview.commits.map(commit => (
              <Typography variant="body2" key={commit.sha}>
                <span className={classes.commit}>{commit.sha.slice(0, 7)}</span>
                {commit.message} — {commit.author}, {relativeTime(commit.at)}
              </Typography>
            ))}
          </div>
        ))}
      {tab === 3 &&
        (preview.configDifferences.length === 0 ? (
          <Typography variant="body2" color="textSecondary">
            The configuration is the same as upstream’s.
          </Typography>
        ) : (
          <div aria-label="Config differences">
            {preview.configDifferences.map(d => (
              <Typography variant="body2" key={d.key}>
                <code>{d.key}</code>:{' '}
                {d.secret
                  ? 'a secret, which differs'
                  : `${d.value ?? 'absent'} here, ${
                      d.upstreamValue ?? 'absent'
                    } upstream`}
              </Typography>
            ))}
          </div>
        ))}
      {tab === 4 && <GateList gates={preview.gates} />}
    </>
  );
}

/**
 * Promote a version to an environment, or roll it back to one it ran: choose, see exactly what
 * will happen (file diff, rendered manifests, commits, config, gates), then confirm.
 */
export function PromoteDialog(props: {
  entity: CompoundEntityRef;
  environment: EnvironmentState;
  environments: EnvironmentState[];
  kind: 'promotion' | 'rollback';
  open: boolean;
  onClose: () => void;
  onDone: (promotion: Promotion) => void;
}) {
  const classes = useStyles();
  const api = useApi(promotionsApiRef);
  const { environment, kind } = props;
  const upstreams = environment.requires.map(name => ({
    name,
    version:
      props.environments.find(e => e.name === name)?.desired.version ?? null,
  }));
  const [from, setFrom] = useState(upstreams[0]?.name ?? '');
  const [version, setVersion] = useState(
    kind === 'promotion' ? upstreams[0]?.version ?? '' : '',
  );
  const [allowUnknown, setAllowUnknown] = useState(false);
  const [images, setImages] = useState<'service' | 'all'>('service');
  const [submitting, setSubmitting] = useState(false);
  const titleId = useId();
  const [error, setError] = useState<string | undefined>();
  /** The open promotion a request ran into (409), to link to and offer to supersede. */
  const [conflict, setConflict] = useState<OpenPromotionConflict>();

  const versions = useAsync(
    async () =>
      kind === 'rollback' && props.open
        ? api.versions(props.entity, environment.name)
        : [],
    [kind, props.open, environment.name],
  );
  const rollbackChoices = (versions.value ?? []).filter(
    v => v.version !== environment.desired.version,
  );
  useEffect(() => {
    if (kind === 'rollback' && !version && rollbackChoices[0]) {
      setVersion(rollbackChoices[0].version);
    }
  }, [kind, version, rollbackChoices]);

  let rollbackHelp: string | undefined;
  if (versions.loading) rollbackHelp = 'Reading the environment’s history…';
  else if (rollbackChoices.length === 0) {
    rollbackHelp = 'No earlier version in the history read';
  }
  const known = upstreams.some(u => u.version === version);
  const request = useMemo(
    () => ({
      to: environment.name,
      kind,
      ...(version ? { version } : {}),
      ...(kind === 'promotion' && from && known ? { from } : {}),
      ...(kind === 'promotion' && !known && upstreams.length > 0
        ? { allowUnknownVersion: allowUnknown }
        : {}),
      ...(environment.desired.images.length > 1 ? { images } : {}),
    }),
    [
      environment,
      kind,
      version,
      from,
      known,
      upstreams.length,
      allowUnknown,
      images,
    ],
  );
  const [debounced, setDebounced] = useState(request);
  useDebounce(() => setDebounced(request), 400, [request]);
  const preview = useAsync(async () => {
    if (!props.open || !debounced.version) return undefined;
    return api.preview(props.entity, debounced);
  }, [props.open, debounced]);

  const submit = async (supersede = false) => {
    setSubmitting(true);
    setError(undefined);
    try {
      // Exactly what the preview showed, on the commit it was made on: a moved branch is refused.
      const promotion = await api.requestPromotion(props.entity, {
        ...debounced,
        ...(preview.value ? { baseCommit: preview.value.baseCommit } : {}),
        ...(supersede ? { supersede } : {}),
      });
      props.onDone(promotion);
    } catch (e) {
      setError(messageOf(e));
      setConflict(
        e instanceof ResponseError && e.statusCode === 409
          ? openPromotionOf(e.body)
          : undefined,
      );
    } finally {
      setSubmitting(false);
    }
  };

  const title =
    kind === 'rollback'
      ? `Roll back ${environment.name}`
      : `Promote to ${environment.name}`;
  return (
    <Dialog
      open={props.open}
      onClose={props.onClose}
      maxWidth="md"
      fullWidth
      aria-labelledby={titleId}
    >
      <DialogTitle id={titleId}>{title}</DialogTitle>
      <DialogContent>
        <div className={classes.fields}>
          {kind === 'promotion' && upstreams.length > 0 && (
            <TextField
              select
              id="promote-from"
              label="From"
              value={from}
              className={classes.field}
              onChange={e => {
                setFrom(e.target.value);
                const upstream = upstreams.find(u => u.name === e.target.value);
                if (upstream?.version) setVersion(upstream.version);
              }}
            >
              {upstreams.map(u => (
                <MenuItem key={u.name} value={u.name}>
                  {u.name} ({u.version ?? 'no version'})
                </MenuItem>
              ))}
            </TextField>
          )}
          {kind === 'rollback' ? (
            <TextField
              select
              id="rollback-version"
              label="Version to roll back to"
              value={version}
              className={classes.field}
              onChange={e => setVersion(e.target.value)}
              helperText={rollbackHelp}
            >
              {rollbackChoices.map(v => (
                <MenuItem key={v.commit} value={v.version}>
                  {v.version} ({relativeTime(v.at)})
                </MenuItem>
              ))}
            </TextField>
          ) : (
            <TextField
              id="promote-version"
              label="Version"
              value={version}
              className={classes.field}
              onChange={e => setVersion(e.target.value.trim())}
              helperText={`${environment.name} runs ${
                environment.desired.version ?? 'nothing known'
              }`}
            />
          )}
          {environment.desired.images.length > 1 && (
            <RadioGroup
              row
              value={images}
              onChange={e => setImages(e.target.value as 'service' | 'all')}
              aria-label="Images"
            >
              <FormControlLabel
                value="service"
                control={<Radio />}
                label="The service’s image"
              />
              <FormControlLabel
                value="all"
                control={<Radio />}
                label="Every image"
              />
            </RadioGroup>
          )}
        </div>
        {kind === 'promotion' && upstreams.length > 0 && version && !known && (
          <Alert severity="warning" className={classes.unknown}>
            No upstream environment runs {version}.
            <FormControlLabel
              control={
                <Checkbox
                  checked={allowUnknown}
                  onChange={e => setAllowUnknown(e.target.checked)}
                />
              }
              label="Promote it anyway; the promotion is marked as such"
            />
          </Alert>
        )}
        {preview.loading && <Progress />}
        {preview.error && (
          <Alert severity="error" role="alert">
            {messageOf(preview.error)}
          </Alert>
        )}
        {preview.value && !preview.loading && (
          <PreviewTabs preview={preview.value} />
        )}
        {error && (
          <Alert
            severity="error"
            role="alert"
            style={{ marginTop: 16 }}
            action={
              conflict ? (
                <Button
                  color="inherit"
                  size="small"
                  onClick={() => submit(true)}
                >
                  Supersede it
                </Button>
              ) : undefined
            }
          >
            {error}
            {conflict && (
              <Typography variant="body2" component="div">
                <Link to={conflict.url}>See the open promotion</Link>
                {conflict.pullRequestUrl && (
                  <>
                    {' · '}
                    <Link to={conflict.pullRequestUrl}>its pull request</Link>
                  </>
                )}
              </Typography>
            )}
          </Alert>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Cancel</Button>
        <Button
          color="primary"
          variant="contained"
          disabled={
            !preview.value ||
            preview.loading ||
            submitting ||
            // The preview shown is not yet of what the form now says.
            debounced !== request
          }
          onClick={() => submit()}
        >
          {kind === 'rollback'
            ? 'Ask for the rollback'
            : 'Ask for the promotion'}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
