<?php
// scim-user.php: a provisioned user and their groups, for PHP code on
// the site, by calling scimctl (docs/scripts.md).  Run as the store's
// user (readers need write access to lock.mdb).
//
//   php scim-user.php NAME-OR-EMAIL     prints the user as JSON
//
// scim_user() returns the user as an array (with "groups"), null when
// there is no such user; it throws when scimctl fails.

const SCIMD_DB = '/var/lib/scimd/example.org';

function scim_user(string $nameOrEmail, ?string $db = null): ?array
{
    $db = $db ?? (getenv('SCIMD_DB') ?: SCIMD_DB);
    // An argument array: no shell, nothing to quote.
    $cmd = ['scimctl', '--db', $db, 'user', 'find', $nameOrEmail, '--json'];
    $proc = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
    if ($proc === false)
        throw new RuntimeException('cannot run scimctl');
    $out = stream_get_contents($pipes[1]);
    $err = stream_get_contents($pipes[2]);
    fclose($pipes[1]);
    fclose($pipes[2]);
    $status = proc_close($proc);
    if ($status === 3)                  // no such user
        return null;
    if ($status !== 0)                  // 1: the store, 2: usage
        throw new RuntimeException(trim($err));
    // find may match several users sharing an email: take the first.
    $line = strtok($out, "\n");
    return json_decode($line, true, 64, JSON_THROW_ON_ERROR);
}

function scim_in_group(array $user, string $group): bool
{
    foreach ($user['groups'] ?? [] as $g)
        if (strcasecmp($g['display'], $group) === 0)
            return true;
    return false;
}

if (PHP_SAPI === 'cli' && isset($argv[1]) &&
    realpath($argv[0]) === realpath(__FILE__)) {
    $u = scim_user($argv[1]);
    if ($u === null) {
        fwrite(STDERR, "no such user\n");
        exit(3);
    }
    echo json_encode($u, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
    if (isset($argv[2]))
        exit(($u['active'] ?? false) && scim_in_group($u, $argv[2]) ? 0 : 1);
}
