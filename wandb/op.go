package wandb

// Op names a call of this package: the snake-case name of the method, as
// errors (Error.Op), change records (ChangeRecord.Op), plans
// (PlannedChange.Op) and retries (RetryEvent.Op) carry it. A program names
// its own changes (Client.Change) with an Op of its own.
type Op string

// The calls of this package.
const (
	OpConfig               Op = "config"                 // NewClient, ConfigFromEnv, Client.WithAPIKey, Client.WithServer
	OpViewer               Op = "viewer"                 // Client.Viewer
	OpUser                 Op = "user"                   // Client.User
	OpUsers                Op = "users"                  // Client.Users, Client.UsersWithStatus
	OpCreateUser           Op = "create_user"            // Client.CreateUser
	OpTeam                 Op = "team"                   // Client.Team
	OpTeams                Op = "teams"                  // Client.Teams
	OpReloadTeam           Op = "reload_team"            // Team.Reload
	OpCreateTeam           Op = "create_team"            // Client.CreateTeam
	OpGenerateAPIKey       Op = "generate_api_key"       // User.GenerateAPIKey
	OpDeleteAPIKey         Op = "delete_api_key"         // User.DeleteAPIKey
	OpStatus               Op = "status"                 // User.Status
	OpDeactivate           Op = "deactivate"             // User.Deactivate
	OpReactivate           Op = "reactivate"             // User.Reactivate
	OpDeleteUser           Op = "delete_user"            // User.Delete
	OpSetRole              Op = "set_role"               // User.SetRole
	OpSetTeamRole          Op = "set_team_role"          // User.SetTeamRole, Team.SetRole
	OpInvite               Op = "invite"                 // Team.Invite
	OpCreateServiceAccount Op = "create_service_account" // Team.CreateServiceAccount
	OpDeleteMember         Op = "delete_member"          // Member.Delete
	OpAddMember            Op = "add_member"             // Team.AddMember
	OpRemoveMember         Op = "remove_member"          // Team.RemoveMember
	OpPlan                 Op = "plan"                   // Client.Plan
)
