import { usePermission } from '@backstage/plugin-permission-react';
import {
  environmentResourceRef,
  promotionsApprovePermission,
  promotionsFreezePermission,
  promotionsMergePermission,
  promotionsOverridePermission,
  promotionsPromotePermission,
} from '@gitops-promotions/plugin-promotions-common';

/** What the signed-in user may do to one environment of an entity, as the permission policy decides. */
export interface EnvironmentPermissions {
  promote: boolean;
  approve: boolean;
  merge: boolean;
  override: boolean;
  freeze: boolean;
}

export function usePromotionPermissions(
  entityRef: string,
  environment: string,
): EnvironmentPermissions {
  const resourceRef = environmentResourceRef(entityRef, environment);
  const promote = usePermission({
    permission: promotionsPromotePermission,
    resourceRef,
  });
  const approve = usePermission({
    permission: promotionsApprovePermission,
    resourceRef,
  });
  const merge = usePermission({
    permission: promotionsMergePermission,
    resourceRef,
  });
  const override = usePermission({
    permission: promotionsOverridePermission,
    resourceRef,
  });
  const freeze = usePermission({
    permission: promotionsFreezePermission,
    resourceRef,
  });
  return {
    promote: promote.allowed,
    approve: approve.allowed,
    merge: merge.allowed,
    override: override.allowed,
    freeze: freeze.allowed,
  };
}
