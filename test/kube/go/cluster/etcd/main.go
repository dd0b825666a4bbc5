// Command etcd is the upstream etcd server (go.etcd.io/etcd/server/v3) built
// from the version pinned in this module, so tests need no prebuilt binary.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
