"""Line-level removal of portal furniture from article text: toolbars, share blocks, links, footers."""

from __future__ import annotations

import re

# Fragments removed from inside a line (they sit in meta lines beside real values).
INLINE_NOISE = re.compile(
    r"[【\[(（]\s*字体\s*[:：]?\s*[\[【]?\s*大\s*中\s*小\s*[\]】]?\s*[】\])）]"
    r"|字体\s*[:：]\s*[\[【]?\s*大\s*中\s*小\s*[\]】]?"
    r"|[【\[]\s*(?:打印|关闭|打印本页|打印此页|关闭窗口|我要纠错|收藏|返回顶部|返回)\s*[】\]]"
    r"|[【\[]\s*纠错\s*[】\]]|返回[^\s。，,]{0,8}首页\s*>*|返回[^\s。，,]{1,6}[，,]\s*查看更多"
    r"|打印本页|打印此页|关闭窗口|返回顶部|我要纠错|收藏本文|加入收藏"
    r"|[（(【\[]\s*(?:责任编辑|编辑|责编)\s*[:：][^）)】\]]{0,20}[）)】\]]"
)
# A word every INLINE_NOISE fragment contains: a fast first test (its branches start with brackets,
# which keep the engine from skipping ahead).
INLINE_NOISE_WORD = re.compile(r"字体|打印|关闭|纠错|收藏|返回|编辑|责编")
# A short line containing one of these is furniture, never prose. Split three ways because one
# case-insensitive alternation searched at every position cost ~20 us a line: CJK words anywhere (every
# branch starts with a literal, so the engine only tries positions holding a first character), Latin
# words in any case (only on lines with their first letters), and words that open the line.
SHORT_LINE_NOISE = re.compile(
    r"版权所有|版权声明|©|ICP[备证]|公网安备|网站标识码|技术支持\s*[:：]|主办单位|承办\s*[:：]|运行维护单位|"
    r"当前的?位置|您的位置|现在的位置|所在位置|扫一扫|扫描二维码|扫二维码|打开微信|微信扫|分享到|无障碍|长者模式|"
    r"老年人模式|热搜\s*[:：]|责任编辑\s*[:：/]|编辑\s*[:：/]|责编\s*[:：/]|看都看完了|点【在看】|"
    r"点击上方|点击蓝字|关注我们"
)
LATIN_LINE_NOISE = re.compile(r"copyright|icp[备证]|powered\s+by", re.IGNORECASE)
LATIN_NOISE_INITIAL = re.compile(r"[CcIiPp]")
LINE_START_NOISE = re.compile(
    r"主办\s*[:：]|分享\s*[:：]?|热门搜索|标签\s*[:：]|(?:责任编辑|编辑|责编|审核|校对|审校|选稿)\s*[:：/]|"
    r"【编辑\s*[:：]|\[\s*责编\s*[:：]|(?:总?监\s*制|审\s*读|出\s*品)\s*[:：]|举报(?:邮箱|电话)|"
    r"关注(?:微信)?公众号|关键[字词]\s*[:：]|(?:相关)?热词(?:搜索)?\s*[:：]|(?i:tags?)\s*[:：]|"
    r"更多\s*>+$|#[^#\s]+#|返回.{0,8}(?:首页|列表|顶部)|加载中|正文已结束|"
    r"《[^》]{2,12}》\s*[（(]\s*\d{4}年\d{1,2}月\d{1,2}日\s*\d+\s*版\s*[)）]$|"
    r"(?:上一篇|下一篇|上一条|下一条)|字号\s*[:：]|(?:打印|关闭|返回|收藏|字号)$|\d*\s*(?:条)?评论$|浏览次数\s*[:：]"
)
SHORT_LINE = 60
DISCLAIMER = re.compile(
    r"内容由网友发布|仅代表作者|不代表本(?:站|网|平台)|仅提供信息存储|如有侵权|转载请注明|注明出处|"
    r"本网站所有内容|未经授权禁止|凡本(?:站|网|平台)|免责声明|转载[^。]{0,12}(?:必须|须|应|请)注明"
)
# A heading after which everything is a widget (related links, recommendations, comments, tips, live
# feeds).
TAIL_MARKER = re.compile(
    r"^(?:相关(?:链接|阅读|新闻|文章|稿件|推荐|报道|附件)|延伸阅读|推荐(?:阅读|图文|资讯|文章|新闻)?|为[你您]推荐|"
    r"热门(?:文章|推荐|新闻|阅读)|最新(?:文章|新闻|资讯)|点击排行|排行榜|打赏|\d*\s*相关评论|网友评论|我要评论|"
    r"发表评论|猜你喜欢|更多(?:新闻|阅读|精彩)|精彩推荐|热点新闻|(?:股市|图文|视频)?直播|7\s*[xX×]\s*24(?:小时)?|"
    r"(?:实时|滚动)?快讯)\s*[:：>»]*$"
)
# A line that closes an article: past it come only the page's widgets (credits, also written ``编辑|X``
# as WeChat accounts do; disclaimers, feedback and report lines, keyword lists, a 推荐阅读：title, the
# first line of a comment or Q&A stream, an account's 阅读原文 / 在看 / QR-code prompts).
# Each is also furniture itself, so cleaning never keeps one.
CLOSING_START = re.compile(
    r"(?:责任编辑|编辑|责编|审核|校对|审校|终审|值班编辑)\s*[:：/|｜丨]|【编辑\s*[:：]|\[\s*责编\s*[:：]|"
    r"(?:特别|免责|版权)声明|(?:文章|本文)?关键[字词]\s*[:：]|推荐阅读\s*[:：]|往期(?:推荐|回顾|精选)|精彩回顾|"
    r"[-—–\s]*(?i:(?:THE )?END)\s*[-—–]*$"
)
CLOSING_ANYWHERE = re.compile(
    r"意见反馈|我要反馈|举报电话|举报邮箱|举报平台|权利保护声明|Notice to Right Holders|"
    r"网友提问|老师回答|热门评论|全部评论|最新评论|阅读原文(?!件)|点个在看|点亮在看|分享、点赞、在看|"
    r"长按识别二维码|长按二维码|扫描下方二维码|"
    # A comment or live-feed entry's header: a name and the time it was posted.
    r"(?:今天|昨天|前天)\s*\d{1,2}:\d{2}(?::\d{2})?$|\d{1,2}\s*(?:分钟|小时)前$"
)
# Kept characters after which a widget heading or closing line ends the text wherever it sits: a page's
# widgets can outweigh a short article three to one.
TEXT_BEFORE_END = 200
NAV_SEPARATORS = re.compile(r"\s*[|｜│]\s*")
CRUMB_SEPARATORS = re.compile(r"\s*(?:>>|>|»|＞|›|→)\s*")
PAGER = re.compile(r"^(?:(?:上一页|下一页|首页|尾页|末页|共\d+页|\d{1,3}|[<>«»‹›]+|\.\.\.|…)\s*){3,}$")
SENTENCE_END = re.compile(r"[。！？!?；;]")
# Any character NAV_SEPARATORS or CRUMB_SEPARATORS can split on.
SEPARATOR_CHARACTER = re.compile(r"[|｜│>»＞›→]")


def _is_navigation(line: str) -> bool:
    if not SEPARATOR_CHARACTER.search(line):
        return False
    for separators in (NAV_SEPARATORS, CRUMB_SEPARATORS):
        parts = [p for p in separators.split(line) if p]
        if len(parts) >= 3 and all(len(p) <= 12 for p in parts) and not SENTENCE_END.search(line):
            return True
    return False


def closes_article(line: str) -> bool:
    """Whether a line is furniture that ends an article's text (a credit, a disclaimer, a feedback line)."""
    if len(line) <= SHORT_LINE and (CLOSING_START.match(line) or CLOSING_ANYWHERE.search(line)):
        return True
    return len(line) <= 160 and DISCLAIMER.search(line) is not None


def is_boilerplate_line(line: str) -> bool:
    """Whether a whole line is furniture (navigation, toolbar, footer, disclaimer, widget heading)."""
    if len(line) <= SHORT_LINE and (
        SHORT_LINE_NOISE.search(line)
        or CLOSING_START.match(line)
        or CLOSING_ANYWHERE.search(line)
        or LINE_START_NOISE.match(line)
        or (LATIN_NOISE_INITIAL.search(line) and LATIN_LINE_NOISE.search(line))
        or _is_navigation(line)
        or PAGER.match(line)
    ):
        return True
    return (len(line) <= 160 and DISCLAIMER.search(line) is not None) or TAIL_MARKER.match(line) is not None


def strip_boilerplate(text: str) -> str:
    """Drop furniture lines and everything after a trailing widget heading or closing line; idempotent.

    Only whole lines and known bracketed fragments are removed, never ordinary punctuation. A widget
    heading (相关阅读, 打赏, 推荐…) or a closing line (责任编辑：, 特别声明, 意见反馈…) ends the text
    once a quarter of the text or ``TEXT_BEFORE_END`` characters of kept text come before it, so that
    an article opening with a 推荐 box or an editor row keeps its body, and one followed by more
    widgets than text still ends.
    """
    lines = [
        (INLINE_NOISE.sub("", line) if INLINE_NOISE_WORD.search(line) else line).strip()
        for line in text.split("\n")
    ]
    lines = [line for line in lines if line]
    total = sum(len(line) for line in lines)
    kept: list[str] = []
    seen = kept_chars = 0
    for line in lines:
        if not is_boilerplate_line(line):
            kept.append(line)
            kept_chars += len(line)
        elif (seen >= total * 0.25 or kept_chars >= TEXT_BEFORE_END) and (
            TAIL_MARKER.match(line) or closes_article(line)
        ):
            break
        seen += len(line)
    return "\n".join(kept)
