// SPDX-License-Identifier: UNLICENSED
// tkms operator committee on chain (docs/chain.md, DESIGN.md §3 "On-chain control plane"): the
// members of the current epoch and its threshold; a change is proposed by a current operator, approved
// by at least t current operators, and its final approval emits CommitteeChanged, on which the nodes
// start the reshare. The certified group file stays the cryptographic record.
pragma solidity 0.8.37;

contract TkmsCommittee {
    /// One committee member. `binding` is the member's Ed25519 signature (64 bytes) over
    /// bindingMessage(member): the EVM has no cheap Ed25519, so the contract only stores and emits
    /// it, and every node checks it before it acts on a committee (docs/chain.md).
    struct Member {
        address operator;
        bytes32 ed25519;
        bytes32 x25519;
        string endpoint;
        bytes binding;
    }

    /// Approvals are a bit mask over member indexes.
    uint256 public constant MAX_MEMBERS = 128;
    uint256 public constant MAX_ENDPOINT = 256;
    bytes private constant MEMBER_TAG = "TKMS-V1-CHAIN-MEMBER";
    bytes32 private constant PROPOSAL_TAG = keccak256("TKMS-V1-CHAIN-PROPOSAL");

    struct Seat {
        uint64 epochPlus1; // member of epoch epochPlus1 - 1 (0: never a member)
        uint8 index; // position in that epoch's member list
    }

    struct Proposal {
        uint64 epoch; // the epoch it changes; stale once the committee has moved on
        uint32 threshold;
        uint32 approvals;
        uint256 approvedMask; // bit i: current member i approved
        bytes32 membersHash;
        address[] operators; // written to the seats when the proposal becomes final
    }

    uint64 public epoch;
    uint32 public threshold;
    uint32 public memberCount;
    /// keccak256(abi.encode(Member[])) of the current members; their full list is in the
    /// CommitteeProposed event of currentProposal.
    bytes32 public membersHash;
    bytes32 public currentProposal;

    mapping(address operator => Seat) private seats;
    mapping(bytes32 id => Proposal) private proposals;

    /// The full proposal, once; approvals then name only its id. For the committee the contract
    /// starts with, epoch is the initial epoch and CommitteeChanged follows at once.
    event CommitteeProposed(
        bytes32 indexed id,
        uint64 indexed epoch,
        address proposer,
        uint32 threshold,
        bool thresholdOverride,
        Member[] members
    );
    event ProposalApproved(bytes32 indexed id, address indexed operator, uint32 approvals);
    /// The committee of `epoch` is the member list of CommitteeProposed(proposalId): the nodes
    /// reshare to it.
    event CommitteeChanged(
        uint64 indexed epoch, bytes32 indexed proposalId, uint32 threshold, uint32 memberCount, bytes32 membersHash
    );

    error NotOperator(address caller);
    error UnknownProposal(bytes32 id);
    error ProposalExists(bytes32 id);
    error StaleProposal(bytes32 id, uint64 proposalEpoch, uint64 currentEpoch);
    error AlreadyApproved(bytes32 id, address operator);
    error MemberCount(uint256 n, uint256 max);
    error ThresholdOutOfRange(uint32 t, uint256 n);
    /// t < floor(n/2)+1: two disjoint sets of t members could act; never allowed.
    error ThresholdBelowFloor(uint32 t, uint256 n, uint256 floor);
    /// t < ceil(2n/3) without thresholdOverride (docs/security.md "Committee thresholds").
    error ThresholdBelowDefault(uint32 t, uint256 n, uint256 minimum);
    error ZeroOperator(uint256 index);
    error DuplicateOperator(uint256 index);
    error BadKey(uint256 index);
    error DuplicateKey(uint256 index);
    error BadEndpoint(uint256 index);
    error BadBinding(uint256 index);

    /// The committee the chain starts with (for a running cluster: its current epoch). The deployer
    /// is trusted for this one list, as the genesis file is off chain.
    constructor(uint64 initialEpoch, uint32 t, bool thresholdOverride, Member[] memory members) {
        bytes32 mh = _check(t, thresholdOverride, members);
        bytes32 id = proposalId(initialEpoch, t, thresholdOverride, mh);
        emit CommitteeProposed(id, initialEpoch, msg.sender, t, thresholdOverride, members);
        address[] memory ops = new address[](members.length);
        for (uint256 i = 0; i < members.length; ++i) ops[i] = members[i].operator;
        _install(initialEpoch, id, t, mh, ops);
    }

    /// The id operators approve: it commits to this contract, the chain, the epoch it changes and
    /// the whole new committee.
    function proposalId(uint64 forEpoch, uint32 t, bool thresholdOverride, bytes32 mh) public view returns (bytes32) {
        return keccak256(abi.encode(PROPOSAL_TAG, block.chainid, address(this), forEpoch, t, thresholdOverride, mh));
    }

    /// What a member's Ed25519 key signs to bind itself to its operator address, KEM key and
    /// endpoint: "TKMS-V1-CHAIN-MEMBER" || be64(chain id) || operator(20) || ed25519(32) ||
    /// x25519(32) || endpoint (the only variable-length field, last).
    function bindingMessage(address operator, bytes32 ed25519, bytes32 x25519, string calldata endpoint)
        external
        view
        returns (bytes memory)
    {
        return abi.encodePacked(MEMBER_TAG, uint64(block.chainid), operator, ed25519, x25519, bytes(endpoint));
    }

    /// Proposes the next committee; the proposer's own approval counts.
    function propose(uint32 t, bool thresholdOverride, Member[] calldata members) external returns (bytes32 id) {
        uint8 idx = _seat(msg.sender);
        bytes32 mh = _check(t, thresholdOverride, members);
        id = proposalId(epoch, t, thresholdOverride, mh);
        Proposal storage p = proposals[id];
        if (p.membersHash != bytes32(0)) revert ProposalExists(id);
        p.epoch = epoch;
        p.threshold = t;
        p.membersHash = mh;
        for (uint256 i = 0; i < members.length; ++i) p.operators.push(members[i].operator);
        emit CommitteeProposed(id, epoch, msg.sender, t, thresholdOverride, members);
        _approve(p, id, idx);
    }

    /// Approves a proposal of the current epoch; the approval that reaches t makes it final.
    function approve(bytes32 id) external {
        uint8 idx = _seat(msg.sender);
        Proposal storage p = proposals[id];
        if (p.membersHash == bytes32(0)) revert UnknownProposal(id);
        _approve(p, id, idx);
    }

    function _approve(Proposal storage p, bytes32 id, uint8 idx) private {
        if (p.epoch != epoch) revert StaleProposal(id, p.epoch, epoch);
        uint256 bit = uint256(1) << idx;
        if (p.approvedMask & bit != 0) revert AlreadyApproved(id, msg.sender);
        p.approvedMask |= bit;
        uint32 n = p.approvals + 1;
        p.approvals = n;
        emit ProposalApproved(id, msg.sender, n);
        if (n >= threshold) _install(epoch + 1, id, p.threshold, p.membersHash, p.operators);
    }

    function _install(uint64 e, bytes32 id, uint32 t, bytes32 mh, address[] memory ops) private {
        epoch = e;
        threshold = t;
        memberCount = uint32(ops.length);
        membersHash = mh;
        currentProposal = id;
        for (uint256 i = 0; i < ops.length; ++i) seats[ops[i]] = Seat(e + 1, uint8(i));
        emit CommitteeChanged(e, id, t, uint32(ops.length), mh);
    }

    /// The caller's index in the current committee, or NotOperator.
    function _seat(address who) private view returns (uint8) {
        Seat memory s = seats[who];
        if (s.epochPlus1 != epoch + 1) revert NotOperator(who);
        return s.index;
    }

    /// The threshold rule of `node_threshold_check` (src/node/proposal.c) and the shape of each
    /// member; returns the members' hash.
    function _check(uint32 t, bool thresholdOverride, Member[] memory members) private pure returns (bytes32) {
        uint256 n = members.length;
        if (n < 1 || n > MAX_MEMBERS) revert MemberCount(n, MAX_MEMBERS);
        if (t < 1 || t > n) revert ThresholdOutOfRange(t, n);
        if (t < n / 2 + 1) revert ThresholdBelowFloor(t, n, n / 2 + 1);
        if (!thresholdOverride && t < (2 * n + 2) / 3) revert ThresholdBelowDefault(t, n, (2 * n + 2) / 3);
        for (uint256 i = 0; i < n; ++i) {
            Member memory m = members[i];
            if (m.operator == address(0)) revert ZeroOperator(i);
            if (m.ed25519 == bytes32(0) || m.x25519 == bytes32(0)) revert BadKey(i);
            uint256 el = bytes(m.endpoint).length;
            if (el == 0 || el > MAX_ENDPOINT) revert BadEndpoint(i);
            if (m.binding.length != 64) revert BadBinding(i);
            for (uint256 j = 0; j < i; ++j) {
                if (members[j].operator == m.operator) revert DuplicateOperator(i);
                if (members[j].ed25519 == m.ed25519 || members[j].x25519 == m.x25519) revert DuplicateKey(i);
            }
        }
        return keccak256(abi.encode(members));
    }

    // ---- views ----

    /// Whether `who` is an operator of the current committee, and its member index.
    function isOperator(address who) external view returns (bool member, uint8 index) {
        Seat memory s = seats[who];
        return (s.epochPlus1 == epoch + 1, s.index);
    }

    function getProposal(bytes32 id)
        external
        view
        returns (uint64 forEpoch, uint32 t, uint32 approvals, bytes32 mh, uint256 approvedMask)
    {
        Proposal storage p = proposals[id];
        return (p.epoch, p.threshold, p.approvals, p.membersHash, p.approvedMask);
    }

    function hasApproved(bytes32 id, address operator) external view returns (bool) {
        Seat memory s = seats[operator];
        if (s.epochPlus1 != epoch + 1) return false;
        return proposals[id].approvedMask & (uint256(1) << s.index) != 0;
    }
}
