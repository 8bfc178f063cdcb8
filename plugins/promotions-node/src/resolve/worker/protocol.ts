import { ImageRef } from '@gitops-promotions/plugin-promotions-common';
import { Probes } from '../probes';
import { ComparableObject, ResolveOptions } from '../types';

/** From the pool to a worker. */
export type ToWorker =
  | {
      type: 'tree';
      /** The id the pool gave this tree. */
      tree: string;
      commit: string;
      /** Every file of the tree: path, blob id, size. */
      files: Array<[string, string, number]>;
    }
  | {
      type: 'resolve';
      job: number;
      tree: string;
      path: string;
      options: ResolveOptions;
    }
  | {
      type: 'content';
      read: number;
      content: Uint8Array | null;
      error?: string;
    };

/** From a worker to the pool. */
export type FromWorker =
  | { type: 'read'; job: number; read: number; path: string }
  | {
      type: 'resolved';
      job: number;
      result: {
        layout: 'kustomize' | 'helm';
        path: string;
        images: ImageRef[];
        version: string | null;
        comparable: ComparableObject[];
        inputs: string[];
        warnings: string[];
        probes: Probes;
        rendered?: unknown[];
      };
    }
  | {
      type: 'failed';
      job: number;
      message: string;
      /** Set when the repository's content is at fault (a `ResolutionError`). */
      file?: string;
      probes?: Probes;
    };
