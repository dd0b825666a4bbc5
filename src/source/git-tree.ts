/**
 * The shape of a git tree as Gantry reads it, and what its file modes mean. Pure data.
 */

/** One entry of a recursive tree listing; `path` is relative to the repository root. */
export interface TreeEntry {
  readonly path: string;
  /** Git's octal mode string: 040000 tree, 100644 file, 100755 executable, 120000 symlink, 160000 submodule. */
  readonly mode: string;
  readonly type: 'blob' | 'tree' | 'commit';
  readonly oid: string;
}

/** What a tree entry is, decided from its mode. */
export type EntryKind = 'file' | 'executable' | 'symlink' | 'submodule' | 'tree';

/** Classifies a git mode; git writes a handful of modes, and old repos may hold 100664 files. */
export function entryKind(mode: string): EntryKind {
  switch (mode) {
    case '040000':
    case '40000':
      return 'tree';
    case '100755':
      return 'executable';
    case '120000':
      return 'symlink';
    case '160000':
      return 'submodule';
    default:
      return 'file';
  }
}

/** The permission bits a checkout gives a file: git only tracks "executable or not". */
export function fileMode(kind: 'file' | 'executable'): number {
  return kind === 'executable' ? 0o755 : 0o644;
}
