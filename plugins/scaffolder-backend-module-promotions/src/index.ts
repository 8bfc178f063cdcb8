/**
 * Scaffolder actions of GitOps Promotions: plan a new service's environments, check the
 * generated layout with the promotions resolver, publish it to a git-provider repository, and
 * ask for a promotion of a service's version.
 *
 * @packageDocumentation
 */
export { scaffolderModulePromotions as default } from './module';
export { createPlanEnvironmentsAction } from './actions/planEnvironments';
export { createValidateLayoutAction } from './actions/validateLayout';
export { createCheckPublishAction } from './actions/checkPublish';
export { createPublishGitAction } from './actions/publishGit';
export { createRegisterEntityAction } from './actions/registerEntity';
export { createPromoteAction } from './actions/promote';
