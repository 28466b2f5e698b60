package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/wandb-lua/wandb-lua/wandb"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// newClient returns the client the script's module uses and a function
// that releases what it needs (the --local server).
//
// Without --local the configuration is read as the SDK reads it (see
// wandb.ConfigFromEnv: WANDB_API_KEY or WANDB_IDENTITY_TOKEN_FILE,
// WANDB_BASE_URL, the settings files, netrc, and the header, proxy and TLS
// variables); --base-url overrides WANDB_BASE_URL and the settings files,
// and --api-key-file the credentials. When TLS verification is off
// (WANDB_INSECURE_DISABLE_SSL), a warning goes to stderr, as do the
// configuration's other warnings (a netrc file others can read). With --local it
// is an in-process wandbtest server seeded with its admin (and --seed),
// and the client authenticates as that admin. Either way flags applies
// the options that set the client (--dry-run, --read-only, --audit,
// --max-response).
func newClient(o *options, std stdio, flags func(*wandb.Config)) (*wandb.Client, func(), error) {
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
		cfg := wandb.Config{BaseURL: srv.url, APIKey: wandb.NewSecret(h.AdminKey()), KeySource: "--local (the test server's admin key)"}
		flags(&cfg)
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
	for _, w := range cfg.Warnings {
		fmt.Fprintf(std.err, "wandb-lua: warning: %s\n", w)
	}
	if cfg.InsecureSkipVerify {
		fmt.Fprintln(std.err, "wandb-lua: warning: WANDB_INSECURE_DISABLE_SSL is set: TLS certificates are not verified, "+
			"so anyone on the network path can read and change the traffic, credentials included")
	}
	flags(&cfg)
	c, err := wandb.NewClient(cfg)
	if err != nil {
		return nil, nil, usagef("%v", err)
	}
	return c, func() {}, nil
}

// loadConfig reads the configuration as the SDK does, with --base-url in
// place of WANDB_BASE_URL and the settings files, and --api-key-file in
// place of WANDB_API_KEY, WANDB_IDENTITY_TOKEN_FILE and netrc. Only the
// error for missing credentials suggests --api-key-file.
func loadConfig(baseURL, keyFile string) (wandb.Config, error) {
	o := wandb.EnvOptions{BaseURL: baseURL}
	if keyFile != "" {
		key, err := readKeyFile(keyFile)
		if err != nil {
			return wandb.Config{}, err
		}
		o.APIKey, o.APIKeySource = wandb.NewSecret(key), "--api-key-file "+keyFile
	}
	cfg, err := wandb.ConfigFromEnvWith(o)
	switch {
	case errors.Is(err, wandb.ErrNoCredentials):
		// The package names the SDK's places; the binary also has a flag.
		return wandb.Config{}, usagef("%v; or pass --api-key-file PATH (--local runs against a built-in test server)", err)
	case err != nil:
		return wandb.Config{}, usagef("%v", err)
	}
	return cfg, nil
}

// readKeyFile returns the key in the file at path: its one non-empty
// line, without the white space around it. The errors never show the key.
// Its format is not checked here: the configuration's check does it.
func readKeyFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", usagef("--api-key-file: %v", err)
	}
	var key string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case key != "":
			return "", usagef("--api-key-file %s: line %d is not empty: the file may only contain the key, on one line; remove the rest", path, i+1)
		default:
			key = line
		}
	}
	if key == "" {
		return "", usagef("--api-key-file %s is empty: write the api key to it", path)
	}
	return key, nil // wandb.ConfigFromEnvWith checks it, naming the file
}
