package host

import (
	"path/filepath"

	"github.com/buktu/buktu/internal/config"
	"github.com/buktu/buktu/internal/events"
)

// openActivity opens the activity log of dataDir, rotated and with refusals counted as the
// [log] section of the configuration says.
func openActivity(dataDir string, cfg config.Log) (*events.Log, error) {
	o := events.Options{
		MaxSize:         cfg.ActivityMaxSize,
		Keep:            cfg.ActivityKeep,
		RefusalInterval: cfg.ActivityRefusalInterval.Std(),
	}
	// In the file 0 turns each off; for events 0 means its default.
	if o.MaxSize == 0 {
		o.MaxSize = -1
	}
	if o.RefusalInterval == 0 {
		o.RefusalInterval = -1
	}
	return events.OpenWith(filepath.Join(dataDir, ActivityFile), o)
}
