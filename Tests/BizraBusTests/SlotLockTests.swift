import BizraBus
import Foundation
import Testing

/// `SlotLock`: node-wide exclusive slots between processes. Two handles in one process have
/// separate open file descriptions, so they contend exactly as two link processes do.
@Suite struct SlotLockTests {
    static func temporaryPath() throws -> String {
        let directory = FileManager.default.temporaryDirectory.path + "/slotlock-\(UUID().uuidString)"
        try DataDirectory.makeDirectory(directory)
        return directory + "/peer.0"
    }

    @Test func aSlotHasOneHolderAtATimeAndIsFreeAgainOnRelease() throws {
        let path = try Self.temporaryPath()
        let first = SlotLock(path: path)
        let second = SlotLock(path: path)
        #expect(!SlotLock.isHeld(path: path))
        #expect(first.tryAcquire())
        #expect(first.isHeld && SlotLock.isHeld(path: path))
        #expect(!second.tryAcquire(), "a second holder took a held slot")
        #expect(!second.isHeld)
        first.release()
        #expect(!SlotLock.isHeld(path: path))
        #expect(second.tryAcquire())
        #expect(!first.tryAcquire())
        second.release()
    }

    @Test func droppingTheHandleReleasesTheSlotAsAProcessExitWould() throws {
        let path = try Self.temporaryPath()
        do {
            let holder = SlotLock(path: path)
            #expect(holder.tryAcquire())
        }
        #expect(!SlotLock.isHeld(path: path))
        #expect(SlotLock(path: path).tryAcquire())
    }

    @Test func waitersShareTheMarkAndHoldersSeeIt() throws {
        let path = try Self.temporaryPath() + ".waiting"
        let a = SlotLock(path: path)
        let b = SlotLock(path: path)
        #expect(!SlotLock.isHeld(path: path))
        #expect(a.tryMark() && b.tryMark(), "waiters must not exclude each other")
        #expect(SlotLock.isHeld(path: path))
        a.release()
        #expect(SlotLock.isHeld(path: path))
        b.release()
        #expect(!SlotLock.isHeld(path: path))
    }

    /// A child process holding the slot excludes this one; when the child is killed, the
    /// kernel releases its lock.
    @Test func aKilledProcessGivesItsSlotBack() throws {
        let path = try Self.temporaryPath()
        // flock(1) takes a flock(2) lock, which does not conflict with OFD locks on Linux: the
        // child takes an OFD lock (F_OFD_SETLK = 37) through python3's fcntl instead (python3 is
        // part of the project's install: the conformance suite runs on it). posix_spawn, not
        // Foundation's Process, which has hung in these tests.
        let marker = path + ".child"
        let script =
            "import fcntl,os,struct,time,sys;fd=os.open(sys.argv[1],os.O_RDWR|os.O_CREAT,0o600);"
            + "fcntl.fcntl(fd,37,struct.pack('hhqqi',fcntl.F_WRLCK,0,0,0,0));"
            + "open(sys.argv[2],'w').write('held');time.sleep(60)"
        let words: [String] = ["python3", "-c", script, path, marker]
        let argv = words.map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, "python3", nil, nil, argv, environ)
        try #require(spawned == 0, "cannot start python3")
        var reaped = false
        defer {
            if !reaped {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
        }
        let deadline = Date().addingTimeInterval(20)
        while (try? String(contentsOfFile: marker, encoding: .utf8)) != "held", Date() < deadline {
            usleep(20_000)
        }
        let held = (try? String(contentsOfFile: marker, encoding: .utf8)) == "held"
        try #require(held, "the child did not take the slot")
        let mine = SlotLock(path: path)
        #expect(!mine.tryAcquire(), "the child's slot was taken while it lives")
        #expect(SlotLock.isHeld(path: path))
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        reaped = true
        #expect(mine.tryAcquire(), "the killed child's slot was not released")
        mine.release()
    }
}
