/**
 * Helpers for testing a module of the promotions backend (a gate, a repository provider, a
 * live-state reader) without a Git repository.
 *
 * @packageDocumentation
 */
export * from './memorySnapshot';
export type { RepositorySnapshot } from '../repository/types';
export type { TreeFile } from '../repository/types';
