import { useState } from 'react';
import {
  CompoundEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { identityApiRef, useApi } from '@backstage/core-plugin-api';
import Button from '@material-ui/core/Button';
import Link from '@material-ui/core/Link';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import {
  EnvironmentState,
  Freeze,
  Promotion,
} from '@gitops-promotions/plugin-promotions-common';
import useAsync from 'react-use/esm/useAsync';
import { promotionsApiRef } from '../../api';
import { absoluteTime, relativeTime } from '../time';
import { GateList } from './GateList';
import { messageOf, PromoteDialog } from './PromoteDialog';
import { ReasonDialog } from './ReasonDialog';
import { usePromotionPermissions } from './usePromotionPermissions';

const useStyles = makeStyles(theme => ({
  section: {
    marginTop: theme.spacing(1.5),
    paddingTop: theme.spacing(1),
    borderTop: `1px solid ${theme.palette.divider}`,
  },
  actions: {
    display: 'flex',
    flexWrap: 'wrap',
    gap: theme.spacing(1),
    marginTop: theme.spacing(1),
  },
  title: { fontWeight: 600 },
  muted: { color: theme.palette.text.secondary },
  stale: { textDecoration: 'line-through' },
  alert: { marginTop: theme.spacing(1), overflowWrap: 'anywhere' },
}));

const person = (ref: string) => ref.replace(/^user:default\//, '');

/** The gates that an override may pass over, with its own permission and a reason. */
const OVERRIDABLE = ['windows', 'freeze'];

type Dialog =
  | 'promote'
  | 'rollback'
  | 'reject'
  | 'close'
  | 'override'
  | 'freeze'
  | 'approve'
  | undefined;

/** One open promotion: what it does, who decided, its gates, and what the user may do to it. */
function OpenPromotion(props: {
  promotion: Promotion;
  me: string | undefined;
  permissions: ReturnType<typeof usePromotionPermissions>;
  onChanged: () => void;
}) {
  const classes = useStyles();
  const api = useApi(promotionsApiRef);
  const { promotion, me, permissions } = props;
  const [dialog, setDialog] = useState<Dialog>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      setDialog(undefined);
      props.onChanged();
    } catch (e) {
      setError(messageOf(e));
      setDialog(undefined);
    } finally {
      setBusy(false);
    }
  };
  const mine = promotion.requestedBy === me;
  const decided = promotion.decisions.some(
    d => d.by === me && d.source === 'portal' && !d.stale,
  );
  const blocking = promotion.gates.filter(g => g.state !== 'passed');
  const mergeable = blocking.length === 0;
  const overridable =
    blocking.length > 0 && blocking.every(g => OVERRIDABLE.includes(g.gate));
  // Held by the change window alone: it may be queued to merge when the window opens.
  const queueable =
    !promotion.queuedUntil &&
    blocking.length === 1 &&
    blocking[0].gate === 'windows' &&
    Boolean(blocking[0].until);
  const verb = promotion.kind === 'rollback' ? 'Rolling back to' : 'Promoting';

  return (
    <div
      className={classes.section}
      role="group"
      aria-label={`Open ${promotion.kind} to ${promotion.environment}`}
    >
      <Typography variant="body2" className={classes.title}>
        {verb} {promotion.version}
        {promotion.from.length > 0 && ` from ${promotion.from.join(', ')}`}
      </Typography>
      <Typography variant="caption" component="div" className={classes.muted}>
        Asked by {person(promotion.requestedBy)}{' '}
        <span title={absoluteTime(promotion.requestedAt)}>
          {relativeTime(promotion.requestedAt)}
        </span>
        {promotion.state !== 'open' && ` · ${promotion.state}`}
        {' · '}
        {promotion.pullRequest ? (
          <Link href={promotion.pullRequest.url} target="_blank" rel="noopener">
            pull request #{promotion.pullRequest.number}
          </Link>
        ) : (
          <span title={promotion.headCommit ?? undefined}>
            branch {promotion.branch}
          </span>
        )}
      </Typography>
      {promotion.unknownVersion && (
        <Alert severity="warning" className={classes.alert}>
          No upstream environment runs this version.
        </Alert>
      )}
      {promotion.decisions.map(d => (
        <Typography
          variant="caption"
          component="div"
          key={`${d.by}-${d.source}`}
          className={d.stale ? classes.stale : undefined}
          title={
            d.stale
              ? 'Given before the change was updated: it no longer counts'
              : undefined
          }
        >
          {d.decision === 'approve' ? 'Approved' : 'Rejected'} by {person(d.by)}
          {d.source === 'github' && ' on GitHub'}
          {d.comment && `: “${d.comment}”`}
        </Typography>
      ))}
      <GateList gates={promotion.gates} />
      {promotion.reason && promotion.state === 'open' && (
        <Alert severity="info" className={classes.alert}>
          {promotion.reason}
        </Alert>
      )}
      {error && (
        <Alert severity="error" role="alert" className={classes.alert}>
          {error}
        </Alert>
      )}
      {promotion.queuedUntil && promotion.state === 'open' && (
        <Alert severity="info" className={classes.alert}>
          Queued to merge at {absoluteTime(promotion.queuedUntil)}, when the
          change window opens, if every gate still passes then.
        </Alert>
      )}
      {permissions.approve && mine && (
        <Typography variant="caption" component="div" className={classes.muted}>
          You asked for this {promotion.kind}: someone else approves it.
        </Typography>
      )}
      <div className={classes.actions}>
        {permissions.approve && !decided && (
          <>
            <Button
              size="small"
              variant="contained"
              color="primary"
              disabled={busy || mine}
              onClick={() => setDialog('approve')}
            >
              Approve
            </Button>
            <Button
              size="small"
              variant="outlined"
              disabled={busy}
              onClick={() => setDialog('reject')}
            >
              Reject
            </Button>
          </>
        )}
        {permissions.merge && mergeable && (
          <Button
            size="small"
            variant="contained"
            color="primary"
            disabled={busy}
            onClick={() => act(() => api.merge(promotion.id))}
          >
            Merge
          </Button>
        )}
        {permissions.merge && queueable && (
          <Button
            size="small"
            variant="outlined"
            color="primary"
            disabled={busy}
            onClick={() => act(() => api.queue(promotion.id))}
          >
            Queue to merge
          </Button>
        )}
        {permissions.merge && promotion.queuedUntil && (
          <Button
            size="small"
            variant="outlined"
            disabled={busy}
            onClick={() => act(() => api.unqueue(promotion.id))}
          >
            Unqueue
          </Button>
        )}
        {permissions.merge && permissions.override && overridable && (
          <Button
            size="small"
            variant="outlined"
            color="secondary"
            disabled={busy}
            onClick={() => setDialog('override')}
          >
            Merge with override
          </Button>
        )}
        {(permissions.merge || (mine && permissions.promote)) && (
          <Button
            size="small"
            disabled={busy}
            onClick={() => setDialog('close')}
          >
            Close
          </Button>
        )}
      </div>
      <ReasonDialog
        open={dialog === 'approve'}
        title={`Approve ${promotion.version} for ${promotion.environment}`}
        description="Your approval counts toward the approvals gate. A comment is optional."
        label="Comment"
        confirm="Approve"
        onClose={() => setDialog(undefined)}
        onConfirm={text => act(() => api.decide(promotion.id, 'approve', text))}
      />
      <ReasonDialog
        open={dialog === 'reject'}
        title={`Reject ${promotion.version} for ${promotion.environment}`}
        description="A rejection fails the approvals gate until the promotion is closed and asked for again."
        label="Why"
        confirm="Reject"
        required
        onClose={() => setDialog(undefined)}
        onConfirm={text => act(() => api.decide(promotion.id, 'reject', text))}
      />
      <ReasonDialog
        open={dialog === 'override'}
        title="Merge despite the change window or freeze"
        description={`This merges past: ${blocking
          .map(g => g.summary)
          .join('; ')}. The override and its reason are kept in the history.`}
        label="Reason"
        confirm="Merge with override"
        required
        onClose={() => setDialog(undefined)}
        onConfirm={text => act(() => api.merge(promotion.id, { reason: text }))}
      />
      <ReasonDialog
        open={dialog === 'close'}
        title={`Close the ${promotion.kind} to ${promotion.environment}`}
        description="Its branch is deleted and its pull request closed. A reason is optional."
        label="Reason"
        confirm="Close"
        onClose={() => setDialog(undefined)}
        onConfirm={text => act(() => api.close(promotion.id, text))}
      />
    </div>
  );
}

/**
 * The workflow part of an environment's card: its freezes, its open promotion, and the buttons
 * the user may use (promote, roll back, freeze), each shown only to those allowed.
 */
export function EnvironmentWorkflow(props: {
  entity: CompoundEntityRef;
  environment: EnvironmentState;
  environments: EnvironmentState[];
  promotion?: Promotion;
  freezes: Freeze[];
  onChanged: () => void;
}) {
  const classes = useStyles();
  const api = useApi(promotionsApiRef);
  const identity = useApi(identityApiRef);
  const me = useAsync(
    async () => (await identity.getBackstageIdentity()).userEntityRef,
    [identity],
  ).value;
  const entityRef = stringifyEntityRef(props.entity);
  const permissions = usePromotionPermissions(
    entityRef,
    props.environment.name,
  );
  const [dialog, setDialog] = useState<Dialog>();
  const [lifting, setLifting] = useState<number>();
  const [error, setError] = useState<string>();
  const { environment, promotion, freezes } = props;
  // Environments promoted outside the portal (a branch, a tag, a manifest) say so instead.
  const canPromote =
    permissions.promote && !promotion && !environment.notPromotable;
  const own = freezes.filter(
    f => f.environment === environment.name || f.environment === '*',
  );
  /** Runs a dialog's action, then closes it: the page reads again, or says why it failed. */
  const act = async (action: () => Promise<unknown>, close: () => void) => {
    try {
      await action();
      close();
      props.onChanged();
    } catch (e) {
      setError(messageOf(e));
      close();
    }
  };

  return (
    <>
      {own.map(f => (
        <Alert
          key={f.id}
          severity="warning"
          className={classes.alert}
          aria-label={`Frozen: ${f.reason}`}
          action={
            permissions.freeze ? (
              <Button
                color="inherit"
                size="small"
                onClick={() => setLifting(f.id)}
              >
                Lift
              </Button>
            ) : undefined
          }
        >
          Frozen{f.entityRef === '*' ? ' for every service' : ''} by{' '}
          {person(f.by)}: {f.reason}
        </Alert>
      ))}
      {promotion && (
        <OpenPromotion
          promotion={promotion}
          me={me}
          permissions={permissions}
          onChanged={props.onChanged}
        />
      )}
      {error && (
        <Alert severity="error" role="alert" className={classes.alert}>
          {error}
        </Alert>
      )}
      {permissions.promote && environment.notPromotable && (
        <Typography variant="caption" component="p" className={classes.alert}>
          {environment.notPromotable}
        </Typography>
      )}
      {(permissions.promote || permissions.freeze) && (
        <div className={classes.actions}>
          {canPromote && (
            <Button
              size="small"
              variant="contained"
              color="primary"
              onClick={() => setDialog('promote')}
            >
              Promote
            </Button>
          )}
          {canPromote && (
            <Button
              size="small"
              variant="outlined"
              onClick={() => setDialog('rollback')}
            >
              Roll back
            </Button>
          )}
          {permissions.freeze && own.length === 0 && (
            <Button size="small" onClick={() => setDialog('freeze')}>
              Freeze
            </Button>
          )}
        </div>
      )}
      {(dialog === 'promote' || dialog === 'rollback') && (
        <PromoteDialog
          open
          entity={props.entity}
          environment={environment}
          environments={props.environments}
          kind={dialog === 'promote' ? 'promotion' : 'rollback'}
          onClose={() => setDialog(undefined)}
          onDone={() => {
            setDialog(undefined);
            props.onChanged();
          }}
        />
      )}
      <ReasonDialog
        open={lifting !== undefined}
        title={`Lift the freeze of ${environment.name}`}
        description="Merges into this environment are allowed again once the freeze is lifted. The reason is kept in its history."
        label="Reason"
        confirm="Lift"
        required
        onClose={() => setLifting(undefined)}
        onConfirm={text =>
          act(
            () => api.liftFreeze(lifting!, text),
            () => setLifting(undefined),
          )
        }
      />
      <ReasonDialog
        open={dialog === 'freeze'}
        title={`Freeze ${environment.name}`}
        description="Nothing is merged into a frozen environment until the freeze is lifted, except with an override."
        label="Reason"
        confirm="Freeze"
        required
        onClose={() => setDialog(undefined)}
        onConfirm={text =>
          act(
            () =>
              api.freeze({
                entityRef,
                environment: environment.name,
                reason: text,
              }),
            () => setDialog(undefined),
          )
        }
      />
    </>
  );
}
