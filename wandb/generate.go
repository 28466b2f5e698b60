package wandb

//go:generate go tool genqlient genqlient.yaml
