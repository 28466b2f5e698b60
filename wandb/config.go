package wandb

// ConfigFromEnv reads the configuration the way the W&B SDK does: the key
// from WANDB_API_KEY, the server from WANDB_BASE_URL (default
// https://api.wandb.ai), and, when WANDB_API_KEY is unset, the key from the
// netrc file ($NETRC, else ~/.netrc) entry whose machine is the base URL's
// host[:port] (or the default entry). Without a key it returns an error
// naming the places it looked.
func ConfigFromEnv() (Config, error) { return Config{}, errTODO }
