import { GithubSimulator } from '@internal/github-simulator';

const started: GithubSimulator[] = [];

/** Starts a GitHub simulator, stopped by `stopGithubSimulators`. */
export async function startGithubSimulator(
  options: Parameters<typeof GithubSimulator.start>[0],
): Promise<GithubSimulator> {
  const simulator = await GithubSimulator.start(options);
  started.push(simulator);
  return simulator;
}

/**
 * Stops the simulators a test started, and fails it when a request the plugin made, or an
 * answer given, did not match GitHub's description. For `afterEach`.
 */
export async function stopGithubSimulators() {
  const problems = started.flatMap(simulator => simulator.problems);
  await Promise.all(started.splice(0).map(simulator => simulator.stop()));
  if (problems.length > 0) {
    throw new Error(`the simulator saw problems:\n${problems.join('\n')}`);
  }
}
