# DFPlayer-class MP3 module on a UART (9600 8N1), sans-IO: plays an announcement as a sequence
# of clips, starting each when the module reports the previous one finished (or after a
# timeout, since not every clone reports). Frame: 7E FF 06 cmd feedback p_hi p_lo ck_hi ck_lo EF,
# checksum = -(sum of the six bytes from FF to p_lo), 16 bits.
from protocol.ticks import ticks_add, ticks_diff

PLAY_MP3 = 0x12        # play /mp3/NNNN.mp3
VOLUME = 0x06
TRACK_DONE = 0x3D       # module -> us: a track finished

# Clip numbers in /mp3 (provisioned with the hall's recordings): letters and digits, then words.
CLIP_LETTER = 1        # A = 1 .. Z = 26
CLIP_DIGIT = 30        # 0 = 30 .. 9 = 39
CLIP_PLEASE = 40       # 请
CLIP_NUMBER = 41       # 号
CLIP_TO = 42           # 到
CLIP_WINDOW = 43       # 窗口  (号窗口 = CLIP_NUMBER, CLIP_WINDOW)
CLIP_AGAIN = 44        # 重呼
CLIP_CHIME = 45


def frame(cmd, param=0):
    body = bytes((0xFF, 0x06, cmd, 0x00, (param >> 8) & 0xFF, param & 0xFF))
    check = (-sum(body)) & 0xFFFF
    return b"\x7e" + body + bytes((check >> 8, check & 0xFF)) + b"\xef"


def call_clips(ticket, window, again=False):
    # 请 A 0 1 2 号 到 3 号 窗口 (with 重呼 first for a recall).
    clips = [CLIP_CHIME] + ([CLIP_AGAIN] if again else []) + [CLIP_PLEASE]
    for ch in ticket:
        clips.append(CLIP_LETTER + ord(ch) - 65 if "A" <= ch <= "Z" else CLIP_DIGIT + ord(ch) - 48)
    clips += [CLIP_NUMBER, CLIP_TO]
    for ch in str(window):
        clips.append(CLIP_DIGIT + ord(ch) - 48)
    clips += [CLIP_NUMBER, CLIP_WINDOW]
    return clips


class VoicePlayer:
    CLIP_TIMEOUT_MS = 2500

    def __init__(self):
        self.queue = []
        self.playing = False
        self.started = 0
        self.out = []            # frames to write to the module
        self._rx = bytearray()

    def play(self, clips, now):
        # Queue an announcement; a newer call does not cut the one being spoken.
        self.queue.extend(clips)
        if not self.playing:
            self._next(now)

    def _next(self, now):
        if self.queue:
            self.out.append(frame(PLAY_MP3, self.queue.pop(0)))
            self.playing = True
            self.started = now
        else:
            self.playing = False

    def feed(self, data, now):
        # Bytes from the module; a "finished" report starts the next clip.
        self._rx.extend(data)
        while len(self._rx) >= 10:
            start = self._rx.find(b"\x7e")
            if start < 0:
                self._rx = bytearray()
                return
            if start:
                self._rx = self._rx[start:]
                continue
            if len(self._rx) < 10:
                return
            packet = self._rx[:10]
            self._rx = self._rx[10:]
            if packet[9] == 0xEF and packet[3] == TRACK_DONE and self.playing:
                self._next(now)

    def tick(self, now):
        if self.playing and ticks_diff(now, self.started) >= self.CLIP_TIMEOUT_MS:
            self._next(now)
