"""Writes the spreadsheet fixtures of BankInterchangeTests with openpyxl, a real spreadsheet writer.

Run from the repository root:  .venv-tests/bin/python Tests/BankInterchangeTests/.fixtures/make_fixtures.py
The Moodle and QTI fixtures beside it are written by hand after the formats' specifications; this script only zips
qti21-package/. The output is committed, so the Swift tests do not need Python. The folder is hidden because SwiftPM
skips hidden folders: any other file in a test target's folder that Package.swift does not declare is a build warning.
"""
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

OUT = Path(__file__).resolve().parent


def fixed_properties(wb):
    # Stable bytes between runs: openpyxl stamps the creation time otherwise.
    import datetime
    stamp = datetime.datetime(2024, 1, 1)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "make_fixtures.py"


def good_bank():
    """A workbook as an editor makes it: a merged title and note above the header, columns in their own order (some
    headers in English, one extra column), empty rows, numbers typed as numbers, a boolean, a rich-text stem, and a
    知识点 sheet."""
    wb = Workbook()
    fixed_properties(wb)
    ws = wb.active
    ws.title = "试题"
    header = ["题型", "编号", "题干", "选项A", "选项B", "选项C", "选项D", "option E", "answer", "分值", "难度",
              "知识点", "解析", "评分标准", "容差", "单位", "所属案例", "附件要求", "备注"]
    ws["A1"] = "电工（四级/中级工）理论知识题库"
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws["A2"] = "填写说明：带 * 的列必填；本行及上一行不会被导入。"
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=8)
    ws.append(header)  # row 3

    def row(number, **cells):
        for key, value in cells.items():
            ws.cell(row=number, column=header.index(key) + 1, value=value)

    row(4, 题型="单选", 编号="Q-SC-1", 题干="我国工频交流电的频率是多少？", 选项A="50 Hz", 选项B="60 Hz",
        选项C="100 Hz", 选项D="220 Hz", answer="A", 分值=2, 难度=1, 知识点="1.1", 解析="我国电网标准频率为 50 Hz。",
        备注="审核：张老师")
    # row 5 stays empty
    row(6, 题型="多选题", 编号="Q-MC-1", 题干="停电检修时，保证安全的技术措施包括：", 选项A="停电", 选项B="口头通知即可送电",
        选项C="验电", 选项D="装设接地线", **{"option E": "悬挂标示牌"}, answer="A、C、D，E", 分值=3, 难度=3,
        知识点="1.2；2.1")
    row(7, 题型="判断", 编号="Q-TF-1", 题干="电流互感器二次侧在运行中严禁开路。", answer=True, 分值=1)
    row(8, 题型="判断题", 编号="Q-TF-2", 题干="熔断器不能用于短路保护。", answer="×", 分值=1, 难度=2)
    row(9, 题型="填空", 编号="Q-FB-1", 题干="欧姆定律的表达式为 I = ____，电阻的单位是 ____。", answer="U/R|U÷R；欧姆|Ω",
        分值=4, 知识点="1.1")
    # rows 10 and 11 stay empty
    row(12, 题型="简答", 编号="Q-SA-1", answer="迅速切断电源；判断伤情；必要时进行心肺复苏。", 分值=10,
        评分标准="使触电者脱离电源：4\n判断伤情：2\n正确施救并呼叫急救: 4")
    ws.cell(row=12, column=header.index("题干") + 1).value = CellRichText(
        "简述发现有人", TextBlock(InlineFont(b=True, color="FF0000"), "触电"), "时的正确处理方法。")
    row(13, 题型="论述题", 编号="Q-ES-1", 题干="论述保护接地与保护接零的区别。", answer="从系统形式、原理、适用场合论述。", 难度=4)
    row(14, 题型="计算", 编号="Q-CA-1", 题干="额定电压 220 V、功率 1100 W 的电热器接在 220 V 电源上，求电流。",
        answer=5.0, 容差=0.05, 单位="A", 分值=5.5)
    row(15, 题型="流程图", 编号="Q-FL-1", 题干="将安装步骤按正确顺序排列。", 选项A="在控制板上固定元件并布线",
        选项B="识读电气原理图", 选项C="通电试车", 选项D="用万用表检查线路", answer="B,A,D,C", 分值=5)
    row(16, 题型="案例分析", 编号="Q-CS-1", 题干="某车间一台电动机运行中突然停转，热继电器动作，一相熔体已熔断。", 难度=4,
        知识点="2.1")
    row(17, 题型="单选题", 编号="Q-CS-1-1", 题干="电动机停转最可能的直接原因是：", 选项A="电源电压过高",
        选项B="缺相运行导致过载", 选项C="负载过轻", answer="b", 分值=3, 所属案例="Q-CS-1")
    row(18, 题型="trueFalse", 编号="Q-CS-1-2", 题干="热继电器起到了过载保护作用。", answer="正确", 分值=2, 所属案例="Q-CS-1")
    row(19, 题型="论文", 编号="Q-TH-1", 题干="撰写一篇关于车间用电安全管理的论文。", answer="不少于 3000 字。",
        附件要求="pdf、docx；10MB", 分值=30)
    row(20, 题型="单选", 题干="安全电压的最高一级是：", 选项A="24 V", 选项B="36 V", 选项C="42 V", answer="C")
    ws.merge_cells("S4:S6")  # a merged note cell beside the questions: only S4 holds its text

    kp = wb.create_sheet("知识点")
    kp.append(["编码", "名称", "上级编码", "比重"])
    kp.append(["1", "基础知识", None, 30])
    kp.append(["1.1", "电工基础", "1", None])
    kp.append(["1.2", "安全用电", "1", 12.5])
    kp.append([])
    kp.append(["2", "相关知识", None, 70])
    kp.append(["2.1", "电动机控制", "2", None])
    wb.save(OUT / "bank-good.xlsx")


def bad_bank():
    """One mistake per row, each reported with its row number and column; rows 2 and 21 are good."""
    wb = Workbook()
    fixed_properties(wb)
    ws = wb.active
    ws.title = "试题"
    header = ["编号", "题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "分值", "难度", "知识点", "评分标准", "所属案例"]
    ws.append(header)

    def row(number, **cells):
        for key, value in cells.items():
            ws.cell(row=number, column=header.index(key) + 1, value=value)

    abcd = dict(选项A="甲", 选项B="乙", 选项C="丙", 选项D="丁")
    row(2, 编号="B-OK-1", 题型="单选", 题干="正确的一题", 答案="A", **abcd)
    row(3, 编号="B-3", 题型="选择题", 题干="题型写错", 答案="A", **abcd)
    row(4, 编号="B-4", 题型="单选", 题干="  ", 答案="A", **abcd)
    row(5, 编号="B-5", 题型="单选", 题干="答案不在选项中", 答案="E", **abcd)
    row(6, 编号="B-6", 题型="多选", 题干="缺少答案", **abcd)
    row(7, 编号="B-7", 题型="判断", 题干="分值不是数字", 答案="对", 分值="两分")
    row(8, 编号="B-8", 题型="判断", 题干="分值为零", 答案="对", 分值=0)
    row(9, 编号="B-9", 题型="判断", 题干="难度超出范围", 答案="对", 难度=6)
    row(10, 编号="B-10", 题型="单选", 题干="知识点不存在", 答案="A", 知识点="1.1 9.9", **abcd)
    row(11, 编号="B-OK-1", 题型="判断", 题干="编号重复", 答案="错")
    row(12, 编号="坏 编号", 题型="判断", 题干="编号不合规", 答案="错")
    row(13, 编号="B-13", 题型="流程图", 题干="只有一个步骤", 选项A="唯一的步骤", 答案="A")
    row(14, 编号="B-14", 题型="填空", 题干="第二空没有答案 ____ ____", 答案="U/R；")
    row(15, 编号="B-15", 题型="单选", 题干="选项 B 空着", 选项A="甲", 选项C="丙", 答案="A")
    row(16, 编号="B-16", 题型="计算", 题干="答案不是数字", 答案="五")
    row(17, 编号="B-17", 题型="判断", 题干="判断题答案无法识别", 答案="可能")
    row(18, 编号="B-18", 题型="判断", 题干="所属案例不存在", 答案="对", 所属案例="NOPE")
    row(19, 编号="B-19", 题型="单选", 题干="单选题两个答案", 答案="AB", **abcd)
    row(20, 编号="B-20", 题型="简答", 题干="评分标准写法不对", 答案="参考答案", 评分标准="要点一 四分")
    row(21, 编号="B-OK-21", 题型="判断", 题干="正确的另一题", 答案="对", 分值=1.5)
    wb.save(OUT / "bank-bad.xlsx")


def no_question_sheet():
    wb = Workbook()
    fixed_properties(wb)
    ws = wb.active
    ws.title = "知识点"
    ws.append(["编码", "名称"])
    ws.append(["1", "基础知识"])
    wb.save(OUT / "no-question-sheet.xlsx")


def no_header():
    wb = Workbook()
    fixed_properties(wb)
    ws = wb.active
    ws.title = "试题"
    ws.append(["我国工频交流电的频率是多少？", "50 Hz", "60 Hz"])
    wb.save(OUT / "no-header.xlsx")


def shared_strings_with_prefixes():
    """A workbook the way other writers make them, assembled part by part (openpyxl writes inline strings only):
    shared strings with rich-text runs and a phonetic run (rPh) that is not part of the text, every element with an
    `x:` prefix, an absolute target in the relationships, cells without `r` attributes, and a sheet not called 试题."""
    import zipfile
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    strings = ["题型", "题干", "答案", "分值", "单选题", "选项A", "选项B"]
    sst = "".join(f"<x:si><x:t>{s}</x:t></x:si>" for s in strings)
    # index 7: rich text with a phonetic run
    sst += ('<x:si><x:r><x:rPr><x:b/></x:rPr><x:t>电压</x:t></x:r><x:r><x:t xml:space="preserve">的单位是</x:t></x:r>'
            '<x:rPh sb="0" eb="2"><x:t>dian ya</x:t></x:rPh></x:si>')
    sst += "<x:si><x:t>伏特</x:t></x:si><x:si><x:t>安培</x:t></x:si>"  # 8, 9
    def c(kind, value, ref=None):
        r = f' r="{ref}"' if ref else ""
        return f'<x:c{r} t="{kind}"><x:v>{value}</x:v></x:c>' if kind else f"<x:c{r}><x:v>{value}</x:v></x:c>"
    rows = (
        '<x:row r="1">' + c("s", 0) + c("s", 1) + c("s", 5) + c("s", 6) + c("s", 2) + c("s", 3) + "</x:row>"
        + '<x:row r="2">' + c("s", 4) + c("s", 7) + c("s", 8) + c("s", 9) + '<x:c t="inlineStr"><x:is><x:t>A</x:t></x:is></x:c>'
        + c(None, "3.0") + "</x:row>"
    )
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/data.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/strings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="r1" Type="{rel}/officeDocument" Target="/xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><x:workbook xmlns:x="{main}" xmlns:r="{rel}">'
        '<x:sheets><x:sheet name="Sheet1" sheetId="1" r:id="rIdA"/></x:sheets></x:workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rIdA" Type="{rel}/worksheet" Target="/xl/worksheets/data.xml"/>'
        f'<Relationship Id="rIdB" Type="{rel}/sharedStrings" Target="strings.xml"/></Relationships>',
        "xl/strings.xml": f'<?xml version="1.0" encoding="UTF-8"?><x:sst xmlns:x="{main}">{sst}</x:sst>',
        "xl/worksheets/data.xml": f'<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="{main}"><x:sheetData>{rows}</x:sheetData></x:worksheet>',
    }
    with zipfile.ZipFile(OUT / "shared-strings-prefixed.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)


def qti_package():
    """The QTI 2.1 content package: qti21-package/ zipped (its manifest also lists a missing file)."""
    import zipfile
    source = OUT / "qti21-package"
    with zipfile.ZipFile(OUT / "qti21-package.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(str(path.relative_to(source)), date_time=(2024, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, path.read_bytes())


if __name__ == "__main__":
    good_bank()
    bad_bank()
    no_question_sheet()
    no_header()
    shared_strings_with_prefixes()
    qti_package()
    print("fixtures written to", OUT)
