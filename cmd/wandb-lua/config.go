package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/wandb-lua/wandb-lua/wandb"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// newClient returns the client the script's module uses and a function
// that releases what it needs (the --local server).
//
// Without --local the configuration is read as the SDK reads it
// (WANDB_API_KEY, WANDB_BASE_URL, netrc); --base-url overrides
// WANDB_BASE_URL and --api-key-file the key. With --local it is an
// in-process wandbtest server seeded with its admin (and --seed), and the
// client authenticates as that admin.
func newClient(o *options, std stdio, safety func(*wandb.Config)) (*wandb.Client, func(), error) {
	if o.local {
		var opts []wandbtest.Option
		if o.seed != "" {
			seed, err := wandbtest.LoadSeed(o.seed)
			if err != nil {
				return nil, nil, usagef("--seed: %v", err)
			}
			opts = append(opts, wandbtest.WithSeed(seed))
		}
		if o.latency > 0 {
			opts = append(opts, wandbtest.WithLatency(o.latency))
		}
		h, err := wandbtest.NewHandler(opts...)
		if err != nil {
			return nil, nil, usagef("--local: %v", err)
		}
		srv, err := listen("127.0.0.1:0", h)
		if err != nil {
			return nil, nil, fmt.Errorf("--local: %w", err)
		}
		cfg := wandb.Config{BaseURL: srv.url, APIKey: h.AdminKey()}
		safety(&cfg)
		c, err := wandb.NewClient(cfg)
		if err != nil {
			srv.close()
			return nil, nil, fmt.Errorf("--local: %w", err)
		}
		return c, srv.close, nil
	}

	cfg, err := loadConfig(o.baseURL, o.keyFile)
	if err != nil {
		return nil, nil, err
	}
	safety(&cfg)
	c, err := wandb.NewClient(cfg)
	if err != nil {
		if o.keyFile != "" {
			// The client calls the key's source "config"; name the file.
			return nil, nil, usagef("--api-key-file %s: %v", o.keyFile, err)
		}
		return nil, nil, usagef("%v", err)
	}
	return c, func() {}, nil
}

// loadConfig reads the configuration as the SDK does, with --base-url in
// place of WANDB_BASE_URL and --api-key-file in place of WANDB_API_KEY and
// netrc.
func loadConfig(baseURL, keyFile string) (wandb.Config, error) {
	if baseURL == "" {
		baseURL = os.Getenv("WANDB_BASE_URL")
	}
	if keyFile != "" {
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return wandb.Config{}, usagef("--api-key-file: %v", err)
		}
		key := strings.TrimSpace(string(b))
		if key == "" {
			return wandb.Config{}, usagef("--api-key-file %s is empty", keyFile)
		}
		return wandb.Config{BaseURL: baseURL, APIKey: key}, nil
	}
	cfg, err := wandb.ConfigFromEnvFor(baseURL)
	if err != nil {
		// The package names the SDK's places; the binary also has a flag.
		return wandb.Config{}, usagef("%v; or pass --api-key-file PATH (--local runs against a built-in test server)", err)
	}
	return cfg, nil
}
