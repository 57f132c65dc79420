// The apply engine's public surface: staged server-side apply, inventory, prune and health, shared by the
// kustomize-controller and (later) the helm-controller.
export {
  type ApplyMemory,
  type ApplyOptions,
  applyAll,
  type FieldManagerRef,
  hasDrifted,
  isImmutableError,
  type ManagedFieldsEntry,
  staleManagers,
  takeOverManagers,
} from './apply.ts';
export {
  type Action,
  Actions,
  ApplyError,
  type ChangeSet,
  type ChangeSetEntry,
  formatChangeSet,
  hasChanged,
} from './changeset.ts';
export {
  computeStatus,
  type HealthResult,
  readStatus,
  type Status,
  Statuses,
  type StatusResult,
  type WaitOptions,
  type WaitResult,
  waitForHealth,
} from './health.ts';
export {
  compareMetadata,
  diffInventory,
  formatId,
  formatSubject,
  type InventoryEntry,
  idOf,
  metadataOf,
  type ObjMetadata,
  parseId,
  refOfEntry,
  subjectOfId,
  toInventory,
} from './inventory.ts';
export {
  type DeleteStaleOptions,
  DeletionPolicies,
  type DeletionPolicy,
  deleteStale,
  shouldDeleteOnFinalize,
} from './prune.ts';
