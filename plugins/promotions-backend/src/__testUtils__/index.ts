/** What the backend's tests share: test backends, Git repositories and GitHub simulators. */
export * from './promotionsBackend';
export * from './database';
export * from './git';
export * from './github';
export * from './workflowBackend';
export * from './refresher';
export * from './crash';
