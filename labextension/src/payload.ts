/**
 * The preview payload's types, generated from kfp_nbsecrets/schemas/pipeline-ir.v1.schema.json
 * by json-schema-to-typescript. Do not edit: change the schema, then run `npm run schema:types`.
 */

/**
 * The JSON payload of the MIME type application/vnd.kfp-nbsecrets.pipeline-ir.v1+json, written by kfp_nbsecrets.display.payload() and drawn by the JupyterLab renderer (labextension/). Task paths join task names with '/'. It holds secret names, never values.
 */
export interface Payload {
  /**
   * The payload version.
   */
  version: 1;
  pipeline: Pipeline;
  /**
   * Every task in DAG order (depth first, then by name): parents before their children.
   */
  tasks: Task[];
  /**
   * The dependencies between tasks of one DAG.
   */
  edges: Edge[];
  /**
   * Every secret entry of every task, in task order.
   */
  bindings: Binding[];
  /**
   * The lint findings, one per problem (severity, code, message and fix), in the order first found.
   */
  findings: Finding[];
  /**
   * The compiled IR, carried once and compact: the base64 of the gzip of its YAML documents (the pipeline spec, then the platform spec when it has one) as a JSON array. The renderer takes the tasks' commands, the Kubernetes platform spec and the YAML tab from it.
   */
  irGzip: string;
}
export interface Pipeline {
  name: string;
  parameters: Parameter[];
}
/**
 * An input parameter of the pipeline; 'default' only when it has one.
 */
export interface Parameter {
  name: string;
  /**
   * The IR parameterType (STRING, NUMBER_INTEGER, LIST, ...).
   */
  type: string;
  /**
   * The default value (any JSON value).
   */
  default?: unknown;
}
export interface Task {
  path: string;
  name: string;
  /**
   * container and importer run one container; the other kinds are DAGs, drawn as groups.
   */
  kind:
    'container' | 'importer' | 'pipeline' | 'for-loop' | 'condition' | 'condition-branches' | 'exit-handler';
  /**
   * The path of the DAG task holding it; '' at the root.
   */
  parent: string;
  component: string;
  executor: string | null;
  /**
   * Paths of the tasks it depends on.
   */
  dependsOn: string[];
  caching: boolean;
  image: string | null;
  /**
   * A condition task's predicate as written in the IR (triggerPolicy.condition), e.g. inputs.parameter_values['pipelinechannel--produce-Output'] == 'x'; an Elif or Else branch's predicate starts with the negations of the branches before it.
   */
  condition?: string;
}
export interface Edge {
  from: string;
  to: string;
}
/**
 * One secret entry of a task: 'env' holds the key to variable pairs (kind env), 'mountPath' the mount path (kind volume).
 */
export interface Binding {
  task: string;
  kind: 'env' | 'volume' | 'image-pull';
  /**
   * The secret name as written in the IR (a literal or a channel placeholder).
   */
  reference?: string;
  source: NameSource;
  optional: boolean;
  env?: EnvPair[];
  mountPath?: string | null;
}
/**
 * Where a secret name comes from, traced to the root of the pipeline: a literal ('name'), a pipeline parameter ('parameter', with its 'default' when it has one), an upstream task output ('task', 'output'), one item of a loop ('items', itself a NameSource) or unresolved ('problem'). 'via' lists the DAG inputs the value passes through, innermost first.
 */
export interface NameSource {
  kind: 'literal' | 'parameter' | 'task-output' | 'loop-item' | 'unresolved';
  /**
   * A short text of the source, e.g. {{secret_name}} = 'db-creds'.
   */
  text: string;
  name?: string;
  parameter?: string;
  /**
   * The parameter's default (any JSON value).
   */
  default?: unknown;
  task?: string;
  output?: string;
  problem?: string;
  items?: NameSource;
  via?: string[];
}
export interface EnvPair {
  secretKey: string;
  envVar: string;
}
/**
 * One problem, written once for all the tasks it is found on.
 */
export interface Finding {
  severity: 'error' | 'warning';
  code: string;
  /**
   * The paths of the tasks it concerns.
   */
  tasks: string[];
  message: string;
  fix: string;
}
