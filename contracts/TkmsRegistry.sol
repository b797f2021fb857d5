// SPDX-License-Identifier: UNLICENSED
// tkms app registry on chain (docs/chain.md, DESIGN.md §3 "On-chain control plane"): an app ID is
// derived from its owner and a salt exactly as off chain; each release is the owner's canonical JSON
// statement, its text in an event and its hash in storage, with a strictly increasing seq.
pragma solidity 0.8.37;

contract TkmsRegistry {
    /// The statement limit of `tkms app` and of the nodes (MAX_STATEMENT in src/cli/cmd_app.c).
    uint256 public constant MAX_STATEMENT = 64 * 1024;
    /// Statements carry seq as a JSON integer in 1..2^53-1 (src/release/registry.c).
    uint64 public constant MAX_SEQ = (uint64(1) << 53) - 1;
    /// secp256k1 n/2: signatures with a higher s are the malleated twin of a valid one and are
    /// refused, as `tkms_eip191_recover` refuses them.
    uint256 private constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    /// Every canonical statement starts with this: "app_id" sorts first among its keys.
    bytes13 private constant APP_PREFIX = '{"app_id":"0x';
    /// ',"seq":' — seq follows the (required) "methods" list in canonical key order.
    bytes7 private constant SEQ_KEY = ',"seq":';

    struct App {
        address owner; // zero: no such app
        uint64 seq; // seq of the latest release, 0 before the first
        bytes32 statementHash; // keccak256 of the latest statement text
        uint64 releaseBlock; // block of the latest release
    }

    mapping(address app => App) private apps;

    event AppCreated(address indexed app, address indexed owner, bytes32 salt);
    /// The full statement text: nodes parse it, check that it is canonical and that its app_id and
    /// seq are the ones indexed here, and apply it only then (docs/chain.md).
    event ReleasePublished(address indexed app, uint64 indexed seq, bytes32 statementHash, bytes statement);

    error AppExists(address app);
    error UnknownApp(address app);
    error NotOwner(address app, address caller);
    error StaleSeq(address app, uint64 current, uint64 given);
    error StatementTooLong(uint256 length, uint256 max);
    error StatementAppId();
    error StatementSeq(uint256 seqAt);
    error BadSignature();
    error SignerNotOwner(address app, address signer);

    /// last20(keccak256("TKMS-V1-APP" || owner(20) || salt(32))), as `tkms_app_id_derive`.
    function appIdOf(address owner, bytes32 salt) public pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encodePacked("TKMS-V1-APP", owner, salt)))));
    }

    /// Creates the app H(msg.sender, salt) with msg.sender as its owner.
    function createApp(bytes32 salt) external returns (address app) {
        app = appIdOf(msg.sender, salt);
        if (apps[app].owner != address(0)) revert AppExists(app);
        apps[app].owner = msg.sender;
        emit AppCreated(app, msg.sender, salt);
    }

    /// Publishes a release statement by its owner. seqAt is the offset of ',"seq":' in the text
    /// (a hint the contract checks, so that it never scans the statement).
    function release(bytes calldata statement, uint256 seqAt) external returns (address app, uint64 seq) {
        (app, seq) = parseStatement(statement, seqAt);
        address owner = apps[app].owner;
        if (owner == address(0)) revert UnknownApp(app);
        if (msg.sender != owner) revert NotOwner(app, msg.sender);
        _publish(app, seq, statement);
    }

    /// Publishes a statement signed by its owner (today's EIP-191 signature over the statement
    /// text, r || s || v with v 27/28 and low s): anyone may send it and pay the gas.
    function releaseSigned(bytes calldata statement, uint256 seqAt, bytes calldata signature)
        external
        returns (address app, uint64 seq)
    {
        (app, seq) = parseStatement(statement, seqAt);
        address owner = apps[app].owner;
        if (owner == address(0)) revert UnknownApp(app);
        address signer = _recover(statement, signature);
        if (signer != owner) revert SignerNotOwner(app, signer);
        _publish(app, seq, statement);
    }

    /// The app ID and seq this contract reads from a statement: the fixed prefix
    /// '{"app_id":"0x' + 40 lowercase hex + '"', and the decimal integer after ',"seq":' at seqAt
    /// (no leading zero, at most 2^53-1, followed by ',' or '}'). In a valid canonical statement both
    /// occur exactly once (no string value may contain '"'), so they are the statement's own values.
    function parseStatement(bytes calldata statement, uint256 seqAt) public pure returns (address app, uint64 seq) {
        uint256 len = statement.length;
        if (len > MAX_STATEMENT) revert StatementTooLong(len, MAX_STATEMENT);
        if (len < 54 || bytes13(statement[0:13]) != APP_PREFIX || statement[53] != '"') revert StatementAppId();
        uint256 a;
        for (uint256 i = 13; i < 53; ++i) {
            uint8 c = uint8(statement[i]);
            uint256 v;
            if (c >= 0x30 && c <= 0x39) v = c - 0x30;
            else if (c >= 0x61 && c <= 0x66) v = c - 0x57;
            else revert StatementAppId();
            a = (a << 4) | v;
        }
        app = address(uint160(a));

        if (seqAt < 54 || seqAt > len - 9 || bytes7(statement[seqAt:seqAt + 7]) != SEQ_KEY) revert StatementSeq(seqAt);
        uint256 p = seqAt + 7;
        uint256 s;
        uint256 digits;
        while (p < len && digits < 17) {
            uint8 c = uint8(statement[p]);
            if (c < 0x30 || c > 0x39) break;
            s = s * 10 + (c - 0x30);
            ++p;
            ++digits;
        }
        if (digits == 0 || (digits > 1 && statement[seqAt + 7] == '0') || s == 0 || s > MAX_SEQ || p >= len) {
            revert StatementSeq(seqAt);
        }
        if (statement[p] != ',' && statement[p] != '}') revert StatementSeq(seqAt);
        seq = uint64(s);
    }

    function _publish(address app, uint64 seq, bytes calldata statement) private {
        App storage a = apps[app];
        if (seq <= a.seq) revert StaleSeq(app, a.seq, seq);
        bytes32 h = keccak256(statement);
        a.seq = seq;
        a.statementHash = h;
        a.releaseBlock = uint64(block.number);
        emit ReleasePublished(app, seq, h, statement);
    }

    /// keccak256("\x19Ethereum Signed Message:\n" || decimal(len) || message), as `tkms_eip191_hash`.
    function eip191Hash(bytes calldata message) public pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n", _decimal(message.length), message));
    }

    function _recover(bytes calldata message, bytes calldata sig) private pure returns (address signer) {
        if (sig.length != 65) revert BadSignature();
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if ((v != 27 && v != 28) || uint256(s) > HALF_N) revert BadSignature();
        signer = ecrecover(eip191Hash(message), v, r, s);
        if (signer == address(0)) revert BadSignature();
    }

    function _decimal(uint256 x) private pure returns (bytes memory out) {
        uint256 n = 1;
        for (uint256 y = x / 10; y != 0; y /= 10) ++n;
        out = new bytes(n);
        for (uint256 i = n; i > 0; --i) {
            out[i - 1] = bytes1(uint8(0x30 + (x % 10)));
            x /= 10;
        }
    }

    // ---- views: an unknown app reads as zero owner, seq 0, zero hash, block 0 ----

    function ownerOf(address app) external view returns (address) {
        return apps[app].owner;
    }

    function seqOf(address app) external view returns (uint64) {
        return apps[app].seq;
    }

    function statementHashOf(address app) external view returns (bytes32) {
        return apps[app].statementHash;
    }

    function releaseBlockOf(address app) external view returns (uint64) {
        return apps[app].releaseBlock;
    }

    /// All four in one call (a node reads them at one block).
    function getApp(address app)
        external
        view
        returns (address owner, uint64 seq, bytes32 statementHash, uint64 releaseBlock)
    {
        App storage a = apps[app];
        return (a.owner, a.seq, a.statementHash, a.releaseBlock);
    }
}
