/**
 * Simulators of Argo CD's API and of the Kubernetes API serving Flux objects, for tests and the
 * demo portal; every request and answer is checked against the published descriptions.
 *
 * @packageDocumentation
 */
export * from './ArgoCdSimulator';
export * from './applications';
export * from './resources';
export * from './rollouts';
export * from './selectors';
export * from './swagger';
export * from './grpcErrors';
export * from './overrides';
export * from './demo';
export * from './FluxKubernetesSimulator';
export * from './fluxObjects';
export * from './fields';
export * from './kubernetesModels';
export * from './names';
export * from './tokens';
