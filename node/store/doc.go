// Package store keeps a node's durable state: its replicated log, its hard
// state and its latest snapshot, and the Meta that says whose they are, in
// one bbolt file, dir/gridlock.db. It knows the shape of a replicated log
// (indexes, no gaps, entries after the snapshot), not what the replica
// means by its hard state or its snapshot: those are opaque bytes.
//
// # How it is driven
//
// The runtime calls Open once at start: it verifies the whole file and
// returns what a restart finds (Loaded). Each turn of the node's loop then
// makes what the turn produced durable with one Save, in one bbolt
// transaction; with Options.Fsync the turn acknowledges nothing before Save
// returns (group commit: one sync per turn, whatever it carries). Close at
// exit. A Save that breaks the log's rules is refused and changes nothing;
// a Save whose write fails leaves the Store refusing all later Saves, and
// the node must restart.
//
// # What it must never do
//
// Serve from data it has not verified; overwrite or repair a file in place
// (a repair writes a new file and renames it over the old one only after
// the old one is copied aside as gridlock.db.damaged-TIME); touch the
// directory of another cluster or node, or of a newer format; crash on a
// damaged file.
//
// # What bbolt does with a damaged file (v1.5.0, observed)
//
//   - It allocates ahead: the file grows to its memory map's size (32 KiB,
//     doubling, then 16 MiB steps), and only the pages below the newest
//     meta page's high-water mark are in use (in the tests, 52 KiB of a
//     64 KiB file). A cut past that mark loses nothing.
//   - A file cut below the mark opens without complaint (bbolt validates
//     only its two meta pages), then the first read of a page past the end
//     is a SIGBUS, or bbolt panics on a freelist page of zeros. Either kills
//     the process unless the reading goroutine has SetPanicOnFault and a
//     recover.
//   - A damaged newest meta page makes bbolt open the transaction before it,
//     without a word: the last Save is gone silently. It is also what a
//     crash while the meta page was written leaves, the torn write that the
//     two meta pages are for: bbolt syncs a transaction's pages before its
//     meta page, and never reuses a page that the previous transaction can
//     reach, so that one stays whole.
//   - Values carry no checksum: a flipped byte in a record reads back as
//     other data. tx.Check saw 14 of 300 random flips in a small file (most
//     land in free pages or values), and one of those 300 made Check fault
//     in its own goroutine: a fatal error that no recover in the caller
//     reaches. Damaged page ids, counts or offsets make bbolt read outside
//     its map, and a cycle of pages makes it recurse until the stack
//     overflows, which is fatal too.
//   - A page header whose element count shrank hides records without
//     leaving a gap (found by fuzzing Open): at the end of the log, the last
//     entries simply are not there.
//
// # So Open verifies, in this order
//
//  1. bbolt's structures, with bounds-checked reads of the file and before
//     bbolt maps it (boltfile.go): the meta pages, and every page the newest
//     transaction reaches lies inside the file, is the page it was reached
//     as, is reached once, and holds its elements. bbolt, tx.Check
//     included, then walks only such a tree.
//  2. bbolt's tx.Check (freelist, reachability, key order), on a read-only
//     handle, under SetPanicOnFault and recover like every read of ours.
//  3. Every record: its CRC-32C (over the key, the payload and their
//     lengths), the log's continuity from the snapshot on, every entry
//     decoded, and the contents record, which says what the state bucket
//     and the log must hold.
//
// Then it decides. A whole file opens as it is. A torn tail (the file
// ends below the newest transaction's high-water mark) or a damaged meta
// page is cut back to what bbolt would open, or to the transaction before,
// when that one verifies on a copy: the original is copied aside, a fresh
// file with what was read is put in its place, Loaded.Recovered says what
// happened and Loaded.Dropped whether a Save is gone. Anything else
// (a record that fails its checksum, a gap, a damaged page the newest
// transaction reaches, both meta pages damaged) is refused with ErrCorrupt
// and the file is left as it was: cutting back past damage that no crash
// leaves would lose a Save that returned, while a node that refuses to start
// can rejoin empty and catch up.
//
// With Options.Fsync false the store uses bbolt's NoSync: a killed process
// loses nothing, a power failure may lose the last Saves and may leave a
// file that Open refuses.
//
// A new store is written as gridlock.db.new and renamed into place, so a
// gridlock.db that is empty or too short is damage, never a new directory.
// The directory is locked (flock) for the Store's life.
package store
