//go:build !unix

package pipeline

import "os"

func lock(*os.File)                   {}
func tryLock(*os.File) bool           { return false }
func keepOwner(*os.File, os.FileInfo) {}
