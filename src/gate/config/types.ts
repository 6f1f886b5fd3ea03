/**
 * The gate's configuration after validation and resolution (./resolve.ts): job inheritance
 * flattened, templates merged into projects, regular expressions compiled, paths absolute.
 */

export interface ConnectionConfig {
  name: string;
  server: string;
  port: number;
  user: string;
  sshKeyFile: string | null;
  /** Pinned SSH host keys (base64 blobs); empty: any key is accepted and logged. */
  hostKeys: string[];
  password: string | null;
  httpUrl: string;
  /** `{project}` is replaced by the project's name. */
  gitUrl: string;
  stream: boolean;
  simulated: boolean;
  demoChange: boolean;
}

/** One vote a trigger or requirement names: label and the values that satisfy it. */
export interface ApprovalSpec {
  label: string;
  values: number[];
}

export interface TriggerConfig {
  connection: string;
  event: 'patchset-created' | 'comment-added' | 'change-merged' | 'ref-updated' | 'change-abandoned';
  branch: RegExp[];
  comment: RegExp[];
  /** Any one of these sets, each a list of votes that must all be set by the comment. */
  approval: ApprovalSpec[][];
  username: RegExp[];
}

export interface ReporterConfig {
  connection: string;
  labels: Record<string, number>;
  submit: boolean;
}

export interface PipelineConfig {
  name: string;
  manager: 'independent' | 'dependent';
  description: string | null;
  triggers: TriggerConfig[];
  require: { connection: string; approval: ApprovalSpec[]; open: boolean }[];
  success: ReporterConfig[];
  failure: ReporterConfig[];
  mergeConflict: ReporterConfig[];
  /** Node request priority: lower is served sooner. */
  priority: number;
  dequeueOnNewPatchset: boolean;
}

export interface NodesetConfig {
  nodes: { name: string; label: string }[];
  groups: { name: string; nodes: string[] }[];
}

export interface StepConfig {
  name: string | null;
  shell: string;
  /** Node names, group names or `all`; empty = the first node. */
  hosts: string[];
}

export interface JobConfig {
  name: string;
  description: string | null;
  nodeset: NodesetConfig;
  run: StepConfig[];
  postRun: StepConfig[];
  timeoutMs: number;
  voting: boolean;
  files: RegExp[];
  irrelevantFiles: RegExp[];
  requiredProjects: string[];
  vars: Record<string, string>;
}

/** A job as a project's pipeline runs it (a variant may turn voting off). */
export interface ProjectJob {
  name: string;
  voting: boolean | null;
}

export interface ProjectConfig {
  name: string;
  connection: string;
  queue: string | null;
  defaultBranch: string;
  /** Pipeline name → its jobs, in order, templates' first. */
  pipelines: Map<string, ProjectJob[]>;
}

export interface GateConfig {
  name: string;
  /** The file the gate section came from (nodepool.yaml or gate.yaml). */
  path: string | null;
  nodepool: { url: string | null; token: string | null; requestor: string; heartbeatIntervalMs: number; nodeTimeoutMs: number };
  executor: { maxBuilds: number; sshKeyFile: string | null; workspaceDir: string; logDir: string; defaultTimeoutMs: number; holdExpirationSeconds: number };
  web: { listen: string; port: number; logUrl: string | null; webhookToken: string | null };
  connections: ConnectionConfig[];
  pipelines: PipelineConfig[];
  jobs: Map<string, JobConfig>;
  projects: Map<string, ProjectConfig>;
}
