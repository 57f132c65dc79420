// The controller runtime's public surface: what a controller's main.ts and reconcilers import.
// Engines with their own concerns (artifact/, oci/) are imported from their own folders.

export {
  ApiError,
  type Client,
  type ClientOptions,
  createClient,
  type DeleteOptions,
  isApiError,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isNoMatch,
  isNotFound,
  type ListOptions,
  type PatchOptions,
  type PatchType,
  type RestMapping,
  type WatchEvent,
  type WatchOptions,
  type WriteOptions,
} from './client.ts';
export {
  type Condition,
  type Conditioned,
  type ConditionPolicy,
  ConditionStatus,
  deleteCondition,
  getCondition,
  hasCondition,
  isFalse,
  isTrue,
  isUnknown,
  markFalse,
  markReconciling,
  markReconcilingProgress,
  markStalled,
  markTrue,
  markUnknown,
  Reasons,
  setCondition,
  summarize,
  Types,
} from './conditions.ts';
export { formatDuration, jitter, parseDuration } from './duration.ts';
export {
  GenericError,
  isReconcileError,
  isStalling,
  isWaiting,
  messageOf,
  ReconcileError,
  reasonOf,
  StallingError,
  WaitingError,
} from './errors.ts';
export {
  createRecorder,
  type EventOptions,
  type EventType,
  EventTypes,
  eventAnnotationPrefix,
  type FluxEvent,
  type Recorder,
  type RecorderOptions,
} from './events.ts';
export { type HealthCheck, type HealthChecks, type HealthServer, serveHealth } from './health.ts';
export {
  createInformer,
  type Informer,
  type InformerHandler,
  type InformerMetrics,
  type InformerOptions,
} from './informer.ts';
export {
  createLeaderElector,
  type LeaderCallbacks,
  type LeaderElectionOptions,
  type LeaderElector,
} from './leader.ts';
export { createLogger, type Logger, type LogLevel, redact } from './log.ts';
export {
  createManager,
  type Manager,
  type ManagerFlags,
  type ManagerOptions,
  type ParsedFlags,
  parseFlags,
  runManager,
  type StopReason,
} from './manager.ts';
export { createMetrics, type RuntimeMetrics, serveMetrics } from './metrics.ts';
export {
  apiVersionOf,
  FluxFinalizer,
  type GVK,
  gvkOf,
  hasFinalizer,
  isDeleting,
  type KindDescriptor,
  type KubeList,
  type KubeObject,
  keyOf,
  type ObjectMeta,
  type ObjectRef,
  objectKey,
  parseKey,
  ReconcileRequestAnnotation,
  refOf,
} from './object.ts';
export { startWorkers, WorkQueue } from './queue.ts';
export {
  type ControllerDefinition,
  type ControllerDeps,
  type ControllerRunner,
  defineController,
  type InformerFactory,
  type ReconcileContext,
  type ReconcileResult,
  runController,
  type WatchSpec,
} from './reconciler.ts';
