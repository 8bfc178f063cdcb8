/**
 * One way to tell which environment an application deploys, from `promotions.live.mapping`:
 * a label whose value is the environment's name, or a template (`{name}` is the entity's name,
 * `{env}` the environment's) that the application's name or destination namespace must equal.
 *
 * @public
 */
export type EnvironmentMappingRule =
  | { label: string }
  | { name: string }
  | { namespace: string };

/**
 * The rules used when the config gives none, first match wins: the label the software template
 * sets, an `env` label, then the name and namespace patterns ApplicationSets usually generate.
 *
 * @public
 */
export const DEFAULT_ENVIRONMENT_MAPPING: EnvironmentMappingRule[] = [
  { label: 'gitops-promotions/environment' },
  { label: 'env' },
  { name: '{name}-{env}' },
  { namespace: '{name}-{env}' },
  { namespace: '{env}' },
];

/**
 * What a mapping rule looks at in an application (or Flux object).
 *
 * @public
 */
export interface MappableApplication {
  name: string;
  labels?: Record<string, string>;
  /** The namespace it deploys to. */
  destinationNamespace?: string;
}

const fill = (template: string, entityName: string, env: string) =>
  template.replace(/\{name\}/g, entityName).replace(/\{env\}/g, env);

/**
 * The environment an application deploys and the rule that says so (as shown in the API:
 * `label env=prod`, `name payment-{env}`, `destination namespace payment-prod`); undefined
 * when no rule names one of the entity's environments.
 *
 * @public
 */
export function mapToEnvironment(
  application: MappableApplication,
  options: {
    entityName: string;
    environments: string[];
    rules: EnvironmentMappingRule[];
  },
): { environment: string; mapping: string } | undefined {
  const { entityName, environments, rules } = options;
  for (const rule of rules) {
    if ('label' in rule) {
      const value = application.labels?.[rule.label];
      if (value !== undefined && environments.includes(value))
        return { environment: value, mapping: `label ${rule.label}=${value}` };
    } else if ('name' in rule) {
      const env = environments.find(
        e => fill(rule.name, entityName, e) === application.name,
      );
      if (env)
        return {
          environment: env,
          mapping: `name ${fill(rule.name, entityName, '{env}')}`,
        };
    } else if (application.destinationNamespace) {
      const env = environments.find(
        e =>
          fill(rule.namespace, entityName, e) ===
          application.destinationNamespace,
      );
      if (env)
        return {
          environment: env,
          mapping: `destination namespace ${application.destinationNamespace}`,
        };
    }
  }
  return undefined;
}
