export {
  type FsComponent,
  type FsNeed,
  type FsUser,
  type FsWalkResult,
  fsEvidence,
  lookupUser,
  macNotes,
  modeString,
  walkFsPermissions,
} from "./walk.js";
