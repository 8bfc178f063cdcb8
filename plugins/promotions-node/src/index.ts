/**
 * What other backend packages build on: the configured GitOps repositories and their
 * providers, version resolution, and the extension points of the promotions backend.
 *
 * @packageDocumentation
 */
export * from './config';
export * from './repository';
export * from './resolve';
export * from './live';
export * from './workflow';
export * from './extensions';
export * from './services';
export * from './permissions';
export { ResolverPool } from './resolve/worker/ResolverPool';
export * from './argocd';
